// Infra is the AWS CDK app that deploys the user-management API: one DynamoDB
// table, one Lambda function per route and per job, an API Gateway HTTP API
// routing to them, an EventBridge schedule per job, and CloudWatch alarms on
// the functions, the table and the jobs' dead-letter queues.
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
// or cdk.json): stackName, emailFrom, publicBaseUrl, invitationUrl and
// passwordResetUrl (your own pages for the links in emails), productName,
// sesConfigurationSet, corsOrigins (comma separated), throttleRate,
// throttleBurst, logRetentionDays,
// alarmTopicArn (an SNS topic every alarm notifies; none by default).
//
// The stack is checked as it is synthesized by cdk-nag's AWS Solutions and
// Serverless rule packs: an error fails `cdk synth` and a warning is printed;
// a rule that does not apply is suppressed next to its resource in stack.go,
// with the reason.
//
// It may import the CDK, cdk-nag, the standard library, and pkg/routes, pkg/schema and
// pkg/config for their names and tables; never the AWS SDK or a package that
// does the work of a function.
package main
