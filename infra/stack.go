package main

import (
	"maps"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/grants"
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
	// CORSOrigins are the browser origins allowed to call the API; none turns
	// CORS off.
	CORSOrigins []string

	// ThrottleRate (requests per second) and ThrottleBurst bound the whole API.
	ThrottleRate  float64
	ThrottleBurst float64
	// LogRetention is how long each function's log group keeps its logs.
	LogRetention awslogs.RetentionDays
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
}

// NewStack builds the whole deployment: the table from pkg/schema, one function
// per route and job with only the grants its row of the table asks for, the
// HTTP API routing to them, and one schedule per job.
func NewStack(scope constructs.Construct, id string, props StackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)

	table := newTable(stack)

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
	stage := api.AddStage(jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageOptions{
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  &props.ThrottleRate,
			BurstLimit: &props.ThrottleBurst,
		},
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
	newFn := func(f function) awslambda.Function {
		return newFunction(stack, table, env, props, f)
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
		awsapigatewayv2.NewHttpRoute(api, jsii.String(routes.CamelCase(r.Name)+"Route"), &awsapigatewayv2.HttpRouteProps{
			HttpApi:  api,
			RouteKey: awsapigatewayv2.HttpRouteKey_With(&r.Path, awsapigatewayv2.HttpMethod(r.Method)),
			Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(
				jsii.String(routes.CamelCase(r.Name)+"Integration"), fn, nil),
		})
	}

	for _, j := range props.Jobs {
		fn := newFn(function{
			name:       j.Name,
			summary:    j.Summary,
			grants:     grants.ForJob(j),
			sendsEmail: j.SendsEmail,
			timeout:    awscdk.Duration_Minutes(jsii.Number(jobTimeoutMinutes)),
			memoryMB:   routes.JobMemory,
		})
		awsevents.NewRule(stack, jsii.String(routes.CamelCase(j.Name)+"Schedule"), &awsevents.RuleProps{
			Description: &j.Summary,
			Schedule:    awsevents.Schedule_Expression(&j.Schedule),
			Targets: &[]awsevents.IRuleTarget{
				awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
					RetryAttempts: jsii.Number(2),
				}),
			},
		})
	}

	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: stage.Url()})
	awscdk.NewCfnOutput(stack, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: table.TableName()})
	return stack
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
	})
}

// newFunction makes one function with its own log group and role. The role
// starts empty rather than with AWSLambdaBasicExecutionRole (logs on every
// resource): it may write to its own log group, use the table as f says, and
// send email if f says so; nothing else.
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
	})

	for _, st := range f.grants {
		fn.AddToRolePolicy(tableStatement(table, st))
	}
	if f.sendsEmail {
		// SES v2 SendEmail is authorized on the sending identity (and on a
		// configuration set, which we do not use).
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("ses:SendEmail"),
			Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{
				Service:      jsii.String("ses"),
				Resource:     jsii.String("identity"),
				ResourceName: jsii.String("*"),
			})),
		}))
	}
	return fn
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
