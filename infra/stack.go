package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/grants"
	"github.com/usermgmt/ums/pkg/outbox"
	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/schema"
)

// Timeouts of the two kinds of function. A route stops before API Gateway's
// 30 s integration limit, so the client gets the function's own answer rather
// than a bare 503.
const (
	routeTimeoutSeconds = 28
	jobTimeoutMinutes   = 5
)

// Jobs reserve no concurrency: two overlapping runs are safe (each change
// is conditioned on the state it was read in, and the tests run two at
// once), and a reservation would fail the deploy on a new account, whose
// concurrency limit of 10 leaves nothing to reserve.

// deadLetterRetentionDays is SQS's longest retention: a failed run waits two
// weeks for someone to look at it.
const deadLetterRetentionDays = 14

// alarmPeriodMinutes is the period every alarm evaluates: one period, so an
// alarm fires within five minutes of the first error.
const alarmPeriodMinutes = 5

// StackProps is everything NewStack builds from. NewStack applies no
// defaults: main reads the settings from CDK context and fills in its own.
type StackProps struct {
	awscdk.StackProps

	// Routes and Jobs are the functions to deploy: routes.All and routes.Jobs
	// in main, a table of their own in tests.
	Routes []routes.Route
	Jobs   []routes.Job
	// CodeDir returns the directory holding the named function's bootstrap.
	CodeDir func(name string) string

	// EmailFrom is the sender of every email.
	EmailFrom string
	// PublicBaseURL is where links in emails point. Empty means the API's own
	// endpoint.
	PublicBaseURL string
	// InvitationURL and PasswordResetURL are the pages the links in emails
	// open (your own frontend's); empty means the hosted pages under
	// PublicBaseURL.
	InvitationURL    string
	PasswordResetURL string
	// ProductName names the product in emails; empty means the default.
	ProductName string
	// SESConfigurationSet is the SES configuration set every mail is sent
	// with; empty for none.
	SESConfigurationSet string
	// CORSOrigins are the browser origins allowed to call the API; none turns
	// CORS off.
	CORSOrigins []string

	// ThrottleRate (requests per second) and ThrottleBurst bound the whole API.
	ThrottleRate  float64
	ThrottleBurst float64
	// LogRetention is how long every log group keeps its logs: each
	// function's and the API's access logs.
	LogRetention awslogs.RetentionDays
	// AlarmTopicARN, if set, is the SNS topic every alarm notifies. Empty
	// leaves the alarms without actions: they show in CloudWatch only.
	AlarmTopicARN string
	// JobConcurrency is the concurrency each job reserves: a burst of API
	// traffic can then never take the job's capacity, and no more runs
	// than this overlap (a schedule that fires during a run waits in
	// Lambda's retry queue). 0 reserves none, for an account whose
	// concurrency quota is too small to reserve any: Lambda keeps 100
	// unreserved, and a new account may have 10 in all.
	JobConcurrency int
}

// function is what a route and a job share: enough to build one Lambda
// function and its grants.
type function struct {
	name       string
	summary    string
	grants     []grants.Statement
	sendsEmail bool
	timeout    awscdk.Duration
	// memoryMB sets the function's CPU share too (see routes.MemoryMB).
	memoryMB int
	// deadLetters, if set, is the function's dead-letter queue: where an
	// asynchronous invocation goes once every attempt has failed.
	deadLetters awssqs.IQueue
	// reserved is the concurrency the function reserves; 0 for none.
	reserved int
}

// NewStack builds the whole deployment: the table from pkg/schema, one function
// per route and job with only the grants its row of the table asks for, the
// HTTP API routing to them, one schedule per job, and the alarms on them.
func NewStack(scope constructs.Construct, id string, props StackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)

	table := newTable(stack)
	alarms := newAlarms(stack, props.AlarmTopicARN)

	// The API exists before the functions so they can be told its endpoint;
	// routes are added once the functions exist. That is no cycle in
	// CloudFormation: the API resource itself depends on no function.
	api := awsapigatewayv2.NewHttpApi(stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		ApiName:       stack.StackName(),
		Description:   jsii.String("User management API"),
		CorsPreflight: corsPreflight(props.CORSOrigins),
		// HttpApiProps cannot throttle the stage it creates, so make our own.
		CreateDefaultStage: jsii.Bool(false),
	})
	// No X-Ray on the stage: HTTP APIs do not support tracing (only REST APIs
	// do), so each trace starts at the function.
	stage := api.AddStage(jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageOptions{
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  &props.ThrottleRate,
			BurstLimit: &props.ThrottleBurst,
		},
		AccessLogSettings: newAccessLogs(stack, props.LogRetention),
	})

	publicBaseURL := props.PublicBaseURL
	if publicBaseURL == "" {
		// ApiEndpoint has no trailing slash, which is what config expects.
		publicBaseURL = *api.ApiEndpoint()
	}
	env := map[string]*string{
		config.EnvTableName:     table.TableName(),
		config.EnvEmailFrom:     &props.EmailFrom,
		config.EnvPublicBaseURL: &publicBaseURL,
		config.EnvCORSOrigins:   jsii.String(strings.Join(props.CORSOrigins, ",")),
	}
	// Set only when given: unset, each has its default.
	for name, v := range map[string]string{
		config.EnvInvitationURL: props.InvitationURL, config.EnvPasswordResetURL: props.PasswordResetURL,
		config.EnvProductName: props.ProductName, config.EnvSESConfigSet: props.SESConfigurationSet,
	} {
		if v != "" {
			env[name] = jsii.String(v)
		}
	}
	newFn := func(f function) awslambda.Function {
		fn := newFunction(stack, table, env, props, f)
		alarms.function(routes.CamelCase(f.name), f.name, fn)
		return fn
	}

	for _, r := range props.Routes {
		fn := newFn(function{
			name:       r.Name,
			summary:    r.Summary,
			grants:     grants.ForRoute(r),
			sendsEmail: r.SendsEmail,
			timeout:    awscdk.Duration_Seconds(jsii.Number(routeTimeoutSeconds)),
			memoryMB:   r.MemoryMB(),
		})
		suppress(fn, false, "Serverless-LambdaDLQ",
			"route functions are invoked synchronously by API Gateway, whose client gets the "+
				"error; a DLQ applies to asynchronous invocations only")
		route := awsapigatewayv2.NewHttpRoute(api, jsii.String(routes.CamelCase(r.Name)+"Route"), &awsapigatewayv2.HttpRouteProps{
			HttpApi:  api,
			RouteKey: awsapigatewayv2.HttpRouteKey_With(&r.Path, awsapigatewayv2.HttpMethod(r.Method)),
			Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(
				jsii.String(routes.CamelCase(r.Name)+"Integration"), fn, nil),
		})
		suppress(route, true, "AwsSolutions-APIG4", routeAuthorization(r))
	}

	for _, j := range props.Jobs {
		switch {
		case j.Schedule != "":
			scheduledJob(stack, j, newFn, alarms, props.JobConcurrency)
		case j.Stream != nil:
			streamJob(stack, j, newFn, table, alarms)
		case j.OnDeploy:
			deployJob(stack, j, newFn, table)
		}
	}

	alarms.table(table)

	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: stage.Url()})
	awscdk.NewCfnOutput(stack, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: table.TableName()})
	// The admin console is a route like any other; where the stack serves
	// it, its address is worth printing after cdk deploy.
	if slices.ContainsFunc(props.Routes, func(r routes.Route) bool { return r.Name == "console" }) {
		awscdk.NewCfnOutput(stack, jsii.String("ConsoleUrl"), &awscdk.CfnOutputProps{
			Description: jsii.String("The admin console: sign in with an admin's email or username"),
			Value:       awscdk.Fn_Join(jsii.String(""), &[]*string{api.ApiEndpoint(), jsii.String("/console")}),
		})
	}
	return stack
}

// scheduledJob makes a job's function and the rule that runs it on its
// schedule; failed runs land in its dead-letter queue.
func scheduledJob(stack awscdk.Stack, j routes.Job, newFn func(function) awslambda.Function, alarms *alarms, concurrency int) {
	deadLetters := jobDeadLetters(stack, j.Name, alarms)
	fn := newFn(function{
		name:        j.Name,
		summary:     j.Summary,
		grants:      grants.ForJob(j),
		sendsEmail:  j.SendsEmail,
		timeout:     awscdk.Duration_Minutes(jsii.Number(jobTimeoutMinutes)),
		memoryMB:    routes.JobMemory,
		deadLetters: deadLetters,
		reserved:    concurrency,
	})
	awsevents.NewRule(stack, jsii.String(routes.CamelCase(j.Name)+"Schedule"), &awsevents.RuleProps{
		Description: &j.Summary,
		Schedule:    awsevents.Schedule_Expression(&j.Schedule),
		Targets: &[]awsevents.IRuleTarget{
			awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
				RetryAttempts:   jsii.Number(2),
				DeadLetterQueue: deadLetters,
			}),
		},
	})
}

// Delivery of a stream job's records: batches of routes.StreamBatch (as
// pkg/localstream hands them locally), tried again from the first failed
// record (ReportBatchItemFailures) up to streamRetries times over at most
// streamMaxAge, a failing batch split in two to find the record at fault;
// a record past all of that goes to the job's dead-letter queue (which
// keeps where it was in the stream, not the record) and alarms. No
// message of the outbox waits longer than that (outbox.MaxWait).
const streamRetries = 20

var streamMaxAge = outbox.MaxWait

// streamJob makes a job's function and the event source mapping that hands
// it the table's stream records it reads: its filter is the job's
// routes.Stream, so the function is invoked for nothing else.
func streamJob(stack awscdk.Stack, j routes.Job, newFn func(function) awslambda.Function, table awsdynamodb.TableV2, alarms *alarms) {
	fn := newFn(function{
		name:       j.Name,
		summary:    j.Summary,
		grants:     grants.ForJob(j),
		sendsEmail: j.SendsEmail,
		timeout:    awscdk.Duration_Minutes(jsii.Number(1)),
		memoryMB:   routes.JobMemory,
	})
	deadLetters := jobDeadLetters(stack, j.Name, alarms)
	suppress(deadLetters, false, "AwsSolutions-SQS3",
		"this queue is a dead-letter queue: the on-failure destination of the job's event source mapping, "+
			"which the rule knows nothing of (it looks for a function's DLQ)")
	filter := awslambda.FilterCriteria_Filter(&map[string]any{
		"eventName": awslambda.FilterRule_IsEqual(jsii.String("INSERT")),
		"dynamodb": map[string]any{"Keys": map[string]any{schema.PK: map[string]any{
			"S": awslambda.FilterRule_BeginsWith(jsii.String(j.Stream.KeyPrefix)),
		}}},
	})
	fn.AddEventSource(awslambdaeventsources.NewDynamoEventSource(table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:               jsii.Number(routes.StreamBatch),
		ReportBatchItemFailures: jsii.Bool(true),
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(streamRetries),
		MaxRecordAge:            awscdk.Duration_Seconds(jsii.Number(streamMaxAge.Seconds())),
		OnFailure:               awslambdaeventsources.NewSqsDlq(deadLetters),
		Filters:                 &[]*map[string]any{filter},
	}))
	suppress(fn, false, "Serverless-LambdaDLQ",
		"a stream function is invoked by its event source mapping, whose on-failure destination is the "+
			"job's dead-letter queue; a function DLQ applies to asynchronous invocations only")
}

// deployJob makes a job's function and the CloudFormation custom resource
// it stands behind: CloudFormation invokes it when the resource is created
// (the first deployment, once the table exists), and waits for its answer,
// so a failed run fails the deployment. No provider framework: the function
// answers CloudFormation itself (pkg/jobs.DeployHandler).
func deployJob(stack awscdk.Stack, j routes.Job, newFn func(function) awslambda.Function, table awsdynamodb.TableV2) {
	fn := newFn(function{
		name:     j.Name,
		summary:  j.Summary,
		grants:   grants.ForJob(j),
		timeout:  awscdk.Duration_Minutes(jsii.Number(1)),
		memoryMB: routes.JobMemory,
	})
	suppress(fn, false, "Serverless-LambdaDLQ",
		"CloudFormation invokes this function for its custom resource and fails the deployment when it "+
			"fails: no asynchronous invocation to catch")
	res := awscdk.NewCustomResource(stack, jsii.String(routes.CamelCase(j.Name)), &awscdk.CustomResourceProps{
		ServiceToken: fn.FunctionArn(),
		ResourceType: jsii.String("Custom::" + routes.CamelCase(j.Name)),
	})
	// Its grants must be in place before CloudFormation invokes it.
	res.Node().AddDependency(fn, table)
}

// routeAuthorization says why a route has no API Gateway authorizer.
func routeAuthorization(r routes.Route) string {
	if r.Access == routes.Public {
		return "a public route (" + r.Key() + "): it takes no credentials by design, " +
			"and the function checks what the request carries (a password, an invitation's token)"
	}
	return "authorization is done by the function with bearer tokens (sessions and API keys), " +
		"as an HTTP API JWT/IAM authorizer cannot read our opaque tokens"
}

// addRulePacks runs AWS's rule packs on the stack when it is synthesized:
// cdk-nag's AWS Solutions and Serverless checks. A finding becomes an error
// or a warning annotation on its resource (`cdk synth` prints them, and fails
// on an error); what does not apply here is suppressed next to the resource,
// with the reason.
func addRulePacks(stack awscdk.Stack) {
	verbose := &cdknag.NagPackProps{Verbose: jsii.Bool(true)}
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(verbose), nil)
	awscdk.Aspects_Of(stack).Add(cdknag.NewServerlessChecks(verbose), nil)
}

// suppress records that a cdk-nag rule does not apply to a construct (and to
// its children, with children), and why. appliesTo, if given, narrows it to
// those findings of the rule: "Resource::*" of AwsSolutions-IAM5, say.
func suppress(construct constructs.IConstruct, children bool, rule, reason string, appliesTo ...any) {
	s := &cdknag.NagPackSuppression{Id: &rule, Reason: &reason}
	if len(appliesTo) > 0 {
		s.AppliesTo = &appliesTo
	}
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &[]*cdknag.NagPackSuppression{s}, &children)
}

// newTable makes the one table. It is kept when the stack is deleted and
// cannot be deleted by accident: it holds every user.
func newTable(stack awscdk.Stack) awsdynamodb.TableV2 {
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	indexes := make([]*awsdynamodb.GlobalSecondaryIndexPropsV2, 0, len(schema.Indexes))
	for _, ix := range schema.Indexes {
		indexes = append(indexes, &awsdynamodb.GlobalSecondaryIndexPropsV2{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   str(ix.PK),
			SortKey:        str(ix.SK),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return awsdynamodb.NewTableV2(stack, jsii.String("Table"), &awsdynamodb.TablePropsV2{
		PartitionKey:           str(schema.PK),
		SortKey:                str(schema.SK),
		Billing:                awsdynamodb.Billing_OnDemand(nil),
		TimeToLiveAttribute:    jsii.String(schema.TTL),
		GlobalSecondaryIndexes: &indexes,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection: jsii.Bool(true),
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
		DynamoStream:       awsdynamodb.StreamViewType(schema.StreamView),
	})
}

// reserved is a function's ReservedConcurrentExecutions: nil for none.
func reserved(n int) *float64 {
	if n <= 0 {
		return nil
	}
	return jsii.Number(n)
}

// newFunction makes one function with its own log group and role. The role
// starts empty rather than with AWSLambdaBasicExecutionRole (logs on every
// resource): it may write to its own log group, use the table as f says, and
// send email if f says so; besides that, only what CDK adds for tracing and
// for f's dead-letter queue.
func newFunction(stack awscdk.Stack, table awsdynamodb.TableV2, env map[string]*string, props StackProps, f function) awslambda.Function {
	id := routes.CamelCase(f.name)
	logs := awslogs.NewLogGroup(stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	logs.GrantWrite(role)

	fnEnv := map[string]*string{}
	maps.Copy(fnEnv, env)
	for k, v := range routes.GoEnv(f.memoryMB) {
		fnEnv[k] = jsii.String(v)
	}
	fn := awslambda.NewFunction(stack, jsii.String(id+"Fn"), &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(props.CodeDir(f.name)), nil),
		Description:  &f.summary,
		MemorySize:   jsii.Number(f.memoryMB),
		Timeout:      f.timeout,
		Environment:  &fnEnv,
		LogGroup:     logs,
		Role:         role,
		// Lambda records a trace of every invocation (its start, duration
		// and error), so a slow or failing request can be found in X-Ray.
		// CDK grants the role xray:PutTraceSegments and
		// xray:PutTelemetryRecords on "*".
		Tracing: awslambda.Tracing_ACTIVE,
		// nil, for a route: no dead-letter queue.
		DeadLetterQueue: f.deadLetters,
		// nil, for a route and when the stack reserves none.
		ReservedConcurrentExecutions: reserved(f.reserved),
	})

	for _, st := range f.grants {
		fn.AddToRolePolicy(tableStatement(table, st))
	}
	if f.sendsEmail {
		// SES v2 SendEmail is authorized on the sending identity and, when
		// mail is sent with one, on the configuration set.
		sesArn := func(resource, name string) *string {
			return stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("ses"), Resource: jsii.String(resource), ResourceName: jsii.String(name),
			})
		}
		resources := []*string{sesArn("identity", "*")}
		if props.SESConfigurationSet != "" {
			resources = append(resources, sesArn("configuration-set", props.SESConfigurationSet))
		}
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("ses:SendEmail"),
			Resources: &resources,
		}))
	}
	suppressWildcards(role, f)
	return fn
}

// suppressWildcards explains AwsSolutions-IAM5's findings on a function's
// role, each by the one resource it names. Every grant is in the role's
// default policy, a child of the role, which exists by now (a suppression
// applies to the children that exist when it is made).
func suppressWildcards(role awsiam.Role, f function) {
	suppress(role, true, "AwsSolutions-IAM5",
		"X-Ray requires Resource *: xray:PutTraceSegments and xray:PutTelemetryRecords "+
			"have no resource-level permissions (the only * resource, as the stack's tests check)",
		jsii.String("Resource::*"))
	if slices.ContainsFunc(f.grants, func(st grants.Statement) bool { return st.Indexes }) {
		suppress(role, true, "AwsSolutions-IAM5",
			"Query reads this table's own indexes (pkg/schema names them): <table ARN>/index/* "+
				"is no other table's, and adding an index must not need a new grant",
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<Table[0-9A-F]{8}\.Arn>\/index\/\*$/`)})
	}
	if f.sendsEmail {
		// The region and account are tokens or, when the stack has an
		// environment (as under `cdk synth`), literals.
		suppress(role, true, "AwsSolutions-IAM5",
			"SES authorizes SendEmail on the sending identity, which may be the sender's address "+
				"or its domain (EmailFrom is configuration): identity/* covers only this account's "+
				"identities in this region, for the one action ses:SendEmail",
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:ses:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|[0-9]{12}):identity\/\*$/`)})
	}
}

// tableStatement renders one statement of pkg/grants on the table.
func tableStatement(table awsdynamodb.TableV2, st grants.Statement) awsiam.PolicyStatement {
	if len(st.Actions) == 0 {
		panic("infra: a table statement without actions: " + st.Sid)
	}
	actions := make([]*string, len(st.Actions))
	for i, a := range st.Actions {
		actions[i] = jsii.String("dynamodb:" + string(a))
	}
	resources := []*string{table.TableArn()}
	if st.Indexes {
		resources = append(resources, jsii.String(*table.TableArn()+"/index/*"))
	}
	conditions := map[string]any{}
	if st.Attributes != nil {
		conditions["ForAllValues:StringEquals"] = map[string]any{"dynamodb:Attributes": st.Attributes}
		conditions["StringEqualsIfExists"] = map[string]any{"dynamodb:ReturnValues": grants.ReturnValuesAllowed}
	}
	if st.LeadingKeys != nil {
		conditions["ForAllValues:StringLike"] = map[string]any{"dynamodb:LeadingKeys": st.LeadingKeys}
	}
	props := &awsiam.PolicyStatementProps{Sid: jsii.String(st.Sid), Actions: &actions, Resources: &resources}
	if len(conditions) > 0 {
		props.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(props)
}

// jobDeadLetters makes the queue where a job's failed runs go, and its alarm.
// EventBridge puts the scheduled event there when it could not invoke the
// function (after the target's retries), and Lambda when every attempt of
// the asynchronous invocation failed. For Lambda it is the function's DLQ
// rather than an on-failure destination: CDK sets it with one property and
// grants only sqs:SendMessage on this queue, cdk-nag's rules recognize it
// (Serverless-LambdaDLQ; AwsSolutions-SQS3 looks for a function's DLQ and
// knows nothing of destinations), and the event it keeps, with the error in
// the message's attributes, is all a run needs to be looked into and rerun.
func jobDeadLetters(stack awscdk.Stack, name string, alarms *alarms) awssqs.Queue {
	id := routes.CamelCase(name)
	q := awssqs.NewQueue(stack, jsii.String(id+"DeadLetters"), &awssqs.QueueProps{
		// SQS-managed keys: EventBridge cannot send to a queue under the AWS
		// managed KMS key (its key policy cannot let the service in), and a
		// key of our own would cost more for no gain here.
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(deadLetterRetentionDays)),
	})
	suppress(q, false, "Serverless-SQSRedrivePolicy",
		"this queue is itself a dead-letter queue (of a job: its rule target and function, or its stream "+
			"mapping); nothing consumes it, so there is nothing to redrive")
	alarms.add(id+"DeadLetters", name+": a run failed on every attempt; its event is in the dead-letter queue",
		q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period:    awscdk.Duration_Minutes(jsii.Number(alarmPeriodMinutes)),
			Statistic: jsii.String("Maximum"),
		}), 0, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD)
	return q
}

// accessLogFields are what the API's access log records of each request:
// enough to find it (the request id API Gateway returns in the
// apigw-requestid header), see how it went and how long its function took,
// and where it came from. Never the path or the query string (the route key
// names the route without the ids in the path) nor a header but the
// User-Agent: the Authorization header is a bearer token.
var accessLogFields = map[string]string{
	"requestId":               "$context.requestId",
	"requestTime":             "$context.requestTime",
	"httpMethod":              "$context.httpMethod",
	"routeKey":                "$context.routeKey",
	"status":                  "$context.status",
	"responseLength":          "$context.responseLength",
	"integrationLatency":      "$context.integrationLatency",
	"sourceIp":                "$context.identity.sourceIp",
	"userAgent":               "$context.identity.userAgent",
	"integrationErrorMessage": "$context.integrationErrorMessage",
}

// newAccessLogs makes the API's access log group and says what goes in it:
// one JSON object per request, of accessLogFields.
func newAccessLogs(stack awscdk.Stack, retention awslogs.RetentionDays) awsapigatewayv2.IAccessLogSettings {
	logs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	format, err := json.Marshal(accessLogFields)
	if err != nil {
		panic(err)
	}
	return &accessLogSettings{
		destination: awsapigatewayv2.NewLogGroupLogDestination(logs),
		format:      awsapigateway.AccessLogFormat_Custom(jsii.String(string(format))),
	}
}

// accessLogSettings implements the CDK's IAccessLogSettings, which has no
// constructor of its own.
type accessLogSettings struct {
	destination awsapigatewayv2.IAccessLogDestination
	format      awsapigateway.AccessLogFormat
}

func (s *accessLogSettings) Destination() awsapigatewayv2.IAccessLogDestination {
	return s.destination
}
func (s *accessLogSettings) Format() awsapigateway.AccessLogFormat { return s.format }

// alarms makes the stack's CloudWatch alarms: each fires on one period of
// alarmPeriodMinutes, treats no data as fine (no invocations, no throttles,
// an empty queue) and, when a topic is configured, notifies it.
type alarms struct {
	stack  awscdk.Stack
	action awscloudwatch.IAlarmAction // nil: no topic
}

func newAlarms(stack awscdk.Stack, topicARN string) *alarms {
	a := &alarms{stack: stack}
	if topicARN != "" {
		topic := awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), &topicARN)
		a.action = awscloudwatchactions.NewSnsAction(topic)
	}
	return a
}

func (a *alarms) add(id, description string, metric awscloudwatch.IMetric, threshold float64, op awscloudwatch.ComparisonOperator) {
	alarm := awscloudwatch.NewAlarm(a.stack, jsii.String(id+"Alarm"), &awscloudwatch.AlarmProps{
		AlarmDescription:   &description,
		Metric:             metric,
		Threshold:          &threshold,
		ComparisonOperator: op,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	if a.action != nil {
		alarm.AddAlarmAction(a.action)
	}
}

// function alarms on any error or throttle of a function, in one alarm:
// CloudFormation takes at most 500 resources in a stack, and with one
// function per route, two alarms each left room for no more routes. Both
// mean the same to whoever is paged (a request failed), and the alarm's
// graph tells them apart. For a job, the errors are the failed run's (each
// failed attempt's; its dead-letter queue alarms once all have failed).
// Each term is filled with 0: Lambda publishes no throttle data point in a
// period with none, and that must not hide the period's errors.
func (a *alarms) function(id, name string, fn awslambda.Function) {
	sum := &awscloudwatch.MetricOptions{
		Period:    awscdk.Duration_Minutes(jsii.Number(alarmPeriodMinutes)),
		Statistic: jsii.String("Sum"),
	}
	failed := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String("FILL(errors, 0) + FILL(throttles, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"errors": fn.MetricErrors(sum), "throttles": fn.MetricThrottles(sum)},
		Label:        jsii.String("Errors and throttles"),
		Period:       awscdk.Duration_Minutes(jsii.Number(alarmPeriodMinutes)),
	})
	a.add(id+"Failures", name+": an invocation failed or was throttled", failed,
		1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
}

// table alarms on any throttled request or DynamoDB system error.
func (a *alarms) table(table awsdynamodb.TableV2) {
	a.add("TableThrottles", "the table throttled a request", tableSum(table, "ThrottledRequests"),
		1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
	a.add("TableSystemErrors", "DynamoDB failed a request (a system error)", tableSum(table, "SystemErrors"),
		1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
}

// tableOperations are the operations whose table metrics the alarms sum:
// every one the grants can allow (never Scan, PartiQL or streams). An alarm
// takes at most 10 metrics, which rules out the CDK's
// metricThrottledRequestsForOperations and metricSystemErrorsForOperations
// with their default of every operation.
var tableOperations = []string{
	"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem",
	"BatchWriteItem", "TransactGetItems", "TransactWriteItems",
}

// tableSum is a table metric that DynamoDB publishes per operation only
// (ThrottledRequests, SystemErrors), summed over tableOperations. Each term
// is filled with 0: DynamoDB publishes a data point only when there is
// something to count, and one operation's throttle must count in a period
// when the others have none.
func tableSum(table awsdynamodb.TableV2, metricName string) awscloudwatch.IMetric {
	period := awscdk.Duration_Minutes(jsii.Number(alarmPeriodMinutes))
	using := map[string]awscloudwatch.IMetric{}
	terms := make([]string, len(tableOperations))
	for i, op := range tableOperations {
		key := strings.ToLower(op) // a metric's id starts with a lower-case letter
		using[key] = table.Metric(&metricName, &awscloudwatch.MetricOptions{
			DimensionsMap: &map[string]*string{"TableName": table.TableName(), "Operation": jsii.String(op)},
			Statistic:     jsii.String("Sum"),
			Period:        period,
		})
		terms[i] = "FILL(" + key + ", 0)"
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(strings.Join(terms, " + ")),
		UsingMetrics: &using,
		Label:        jsii.String(metricName + ", summed over the operations"),
		Period:       period,
	})
}

// corsPreflight allows exactly the configured origins, or turns CORS off when
// there are none. It never allows "*": the API takes bearer tokens, and only
// known front ends should be able to call it from a browser.
func corsPreflight(origins []string) *awsapigatewayv2.CorsPreflightOptions {
	if len(origins) == 0 {
		return nil
	}
	return &awsapigatewayv2.CorsPreflightOptions{
		AllowOrigins: jsii.Strings(origins...),
		AllowMethods: &[]awsapigatewayv2.CorsHttpMethod{
			awsapigatewayv2.CorsHttpMethod_GET,
			awsapigatewayv2.CorsHttpMethod_POST,
			awsapigatewayv2.CorsHttpMethod_PUT,
			awsapigatewayv2.CorsHttpMethod_PATCH,
			awsapigatewayv2.CorsHttpMethod_DELETE,
		},
		AllowHeaders:  jsii.Strings("Authorization", "Content-Type", "Idempotency-Key"),
		ExposeHeaders: jsii.Strings("X-Request-Id", "Retry-After", "Location"),
		MaxAge:        awscdk.Duration_Hours(jsii.Number(1)),
	}
}
