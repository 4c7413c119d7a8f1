// Package api is the HTTP face of the service: one http.Handler per route,
// thin (decode, call one service method, encode), and the middleware every
// route shares: request id, security headers, body limit, strict JSON,
// authentication and the route's access level, panic recovery, structured
// logs without secrets, and the one map from error kind to HTTP status that
// writes RFC 9457 problem details.
//
// It imports the standard library, pkg/routes and the domain packages.
package api
