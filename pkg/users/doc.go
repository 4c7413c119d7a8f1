// Package users is the user concept: the User and its states, the rules for
// creating, reading, listing and editing users (who may do what to whom, the
// password rules, uniqueness, the last admin, seats), the counters behind the
// usage summary, and the narrow Store it needs.
//
// It imports the standard library and the lower domain packages: apperr,
// access, audit, opt, ids, notices, paging, passwords, retry, settings.
package users
