// Package apperr holds the service's few error kinds. Domain packages declare
// their sentinels with a kind and a stable, machine-readable code
// (ErrLastAdmin = apperr.Conflict("last_admin", ...)); only the api package
// maps kinds to HTTP statuses. It knows nothing of HTTP and imports only the
// standard library.
package apperr
