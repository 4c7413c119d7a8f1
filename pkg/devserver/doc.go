// Package devserver mounts every route of the routes table on one
// net/http.ServeMux, with the same handlers the Lambda functions serve, for
// the local stack. It adds what API Gateway does in AWS: CORS for the
// configured origins, problem+json for unknown routes, and a request id the
// client cannot choose. It may import pkg/app, pkg/api and pkg/routes.
package devserver
