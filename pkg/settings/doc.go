// Package settings holds the service's settings, their defaults and their
// bounds, and the Service that reads and changes them (admin only). It
// imports the standard library, pkg/apperr, pkg/access, pkg/audit, pkg/opt
// and pkg/passwords.
package settings
