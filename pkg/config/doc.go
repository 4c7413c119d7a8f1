// Package config reads the service's configuration from the environment. Only
// main packages (functions/*, scripts/*) call it; everything else receives a
// Config or the parts of it it needs.
package config
