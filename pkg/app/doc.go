// Package app builds the service from a Config: the AWS clients, the store,
// the domain services, the logger, and each route's complete handler. Every
// Lambda function's main and the dev server start here, so they run the same
// code. It may import anything in the module.
package app
