// Package apigw adapts API Gateway HTTP API (payload format 2.0) events to a
// standard http.Handler and back, so each Lambda function serves the same
// handler the dev server mounts. Path parameters reach r.PathValue, the
// client's address is the one API Gateway saw (requestContext.http.sourceIp)
// and the request id is API Gateway's, never a header the client chose.
//
// It imports the standard library, aws-lambda-go's events, pkg/api (the
// request id header's name, and the problem an unreadable event gets),
// pkg/routes and pkg/runtimeloop (Start's invocation loop).
package apigw
