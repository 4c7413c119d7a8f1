// Package runtimeapi is a minimal local AWS Lambda Runtime API: the subset a
// Go function uses (next invocation, response, error, init error), whether
// it runs pkg/runtimeloop, as ours do, or aws-lambda-go's lambda.Start
// built with -tags lambda.norpc. It runs the very bootstrap binary
// that is deployed, not a handler called in-process, so what it proves about a
// function (it starts, reads its configuration, answers an API Gateway event,
// survives a warm start) holds for the binary Lambda runs.
//
// scripts/invoke uses it to invoke one function against the local stack, and
// its tests use it to check that functions/* are genuine Lambda functions.
//
// It imports only the standard library.
package runtimeapi
