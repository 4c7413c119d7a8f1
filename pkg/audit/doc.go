// Package audit defines the audit event that every successful change writes in
// the same transaction as the change (rule 8). It imports the standard
// library and pkg/access and pkg/ids.
package audit
