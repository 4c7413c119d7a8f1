// Package access says who is calling: the roles, and the Actor that the api
// layer authenticates and puts in the request's context for the domain
// services to authorize against and to name in audit events. It imports the
// standard library and pkg/apperr.
package access
