// Package runtimeapi is a minimal local AWS Lambda Runtime API: the subset a
// Go function built on aws-lambda-go with -tags lambda.norpc uses (next
// invocation, response, error, init error). It runs the very bootstrap binary
// that is deployed, not a handler called in-process, so what it proves about a
// function (it starts, reads its configuration, answers an API Gateway event,
// survives a warm start) holds for the binary Lambda runs.
//
// scripts/invoke uses it to invoke one function against the local stack, and
// its tests use it to check that functions/* are genuine Lambda functions.
//
// It imports only the standard library.
package runtimeapi
