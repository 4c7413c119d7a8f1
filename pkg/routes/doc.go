// Package routes is the table of every operation the service exposes: its
// function name, HTTP method and path, who may call it, and the AWS access its
// function needs. The dev server's mux, the CDK stack's functions, routes and
// grants, and the tests that keep functions/, events/ and openapi.yaml in step
// are all derived from this one table.
//
// It imports only the standard library, so that infra/ can read it without
// pulling in the service.
package routes
