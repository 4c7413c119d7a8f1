// Infra is the AWS CDK app that deploys the user-management API: one DynamoDB
// table, one Lambda function per route and per job, an API Gateway HTTP API
// routing to them, and an EventBridge schedule per job.
//
// Everything is built from the same data the code runs on: the functions,
// routes, schedules and each function's grants from the table in pkg/routes,
// the table and its indexes from pkg/schema, and the functions' environment
// names from pkg/config. Adding a route there adds it here; nothing is listed
// twice.
//
// cdk.json at the repository root runs it with `go run ./infra`, from the
// repository root, after `make build` has put each function's bootstrap under
// .build/functions/<name>/. Settings come from CDK context (`cdk -c key=value`
// or cdk.json): stackName, emailFrom, publicBaseUrl, corsOrigins (comma
// separated), throttleRate, throttleBurst, logRetentionDays, memoryMb.
//
// It may import the CDK, the standard library, and pkg/routes, pkg/schema and
// pkg/config for their names and tables; never the AWS SDK or a package that
// does the work of a function.
package main
