package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/grants"
	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/schema"
)

// The stack under test deploys every real route plus a route and a job that
// send email, so the email grant and the job wiring are tested while the real
// table has neither.
var (
	fakeJob = routes.Job{Name: "fake-job", Schedule: "rate(1 hour)",
		Dynamo:     []routes.Action{routes.Query, routes.UpdateItem, routes.BatchWriteItem},
		SendsEmail: true, Summary: "A job that writes and sends email"}
	fakeMailer = routes.Route{Name: "fake-mailer", Method: "POST", Path: "/fake/{id}/mail",
		Access: routes.Admin, Dynamo: []routes.Action{routes.BatchGetItem}, SendsEmail: true,
		Summary: "A route that reads and sends email"}
	corsOrigins = []string{"https://admin.example.com", "https://app.example.com"}
	alarmTopic  = "arn:aws:sns:eu-west-1:123456789012:ops-alarms"
)

// What reading the table's stream takes: a stream job's grants, on the
// stream's ARN.
var streamActions = []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}

// The X-Ray daemon's actions, which X-Ray authorizes on "*" only: it has no
// resource-level permissions. They are the only grants on "*".
var xrayActions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}

// wantFn is what a function of the stack under test should look like.
type wantFn struct {
	name       string
	summary    string
	grants     []grants.Statement
	sendsEmail bool
	timeout    float64 // seconds
	memoryMB   int
}

func TestStack(t *testing.T) {
	allRoutes := append(slices.Clone(routes.All), fakeMailer)
	// A scheduled job of our own, and the real jobs started otherwise (by
	// the stream, by a deployment).
	jobs := []routes.Job{fakeJob}
	for _, j := range routes.Jobs {
		if j.Schedule == "" {
			jobs = append(jobs, j)
		}
	}
	// The jobs with a dead-letter queue: those a schedule or the stream
	// starts (a deployment's failure is the deployment's).
	queued := slices.DeleteFunc(slices.Clone(jobs), func(j routes.Job) bool { return j.OnDeploy })
	scheduled := slices.DeleteFunc(slices.Clone(jobs), func(j routes.Job) bool { return j.Schedule == "" })
	streamJobs := map[string]bool{}
	for _, j := range jobs {
		streamJobs[j.Name] = j.Stream != nil
	}

	var fns []wantFn
	for _, r := range allRoutes {
		fns = append(fns, wantFn{r.Name, r.Summary, grants.ForRoute(r), r.SendsEmail, 28, r.MemoryMB()})
	}
	for _, j := range jobs {
		timeout := 60.0
		if j.Schedule != "" {
			timeout = 300
		}
		fns = append(fns, wantFn{j.Name, j.Summary, grants.ForJob(j), j.SendsEmail, timeout, routes.JobMemory})
	}

	// The app is synthesized once, by the first Template_FromStack, so both
	// stacks must be built before it.
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	props := StackProps{
		Routes:        allRoutes,
		Jobs:          jobs,
		CodeDir:       codeDirs(t, fns),
		EmailFrom:     "Acme <no-reply@acme.example>",
		CORSOrigins:   corsOrigins,
		ThrottleRate:  7,
		ThrottleBurst: 13,
		LogRetention:  awslogs.RetentionDays_ONE_WEEK,
		AlarmTopicARN: alarmTopic,
		// Not 1, the default, so that a job's 1 could not come from elsewhere.
		JobConcurrency: 2,

		InvitationURL:       "https://app.acme.example/join",
		PasswordResetURL:    "https://app.acme.example/reset",
		ProductName:         "Acme",
		SESConfigurationSet: "acme-mail",
	}
	full := NewStack(app, "Full", props)
	addRulePacks(full)

	// Without origins, jobs, a public URL or an alarm topic: what those turn
	// off. In an account and region, as `cdk synth` makes the stack: the rule
	// packs see ARNs with literals there (the mailer's SES identities).
	bare := props
	bare.Routes = []routes.Route{routes.All[0], fakeMailer}
	bare.Env = &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}
	bare.Jobs = nil
	bare.CORSOrigins = nil
	bare.PublicBaseURL = "https://users.example.com"
	bare.AlarmTopicARN = ""
	bare.InvitationURL, bare.PasswordResetURL, bare.ProductName, bare.SESConfigurationSet = "", "", "", ""
	bareStack := NewStack(app, "Bare", bare)
	addRulePacks(bareStack)

	tmpl, bareTmpl := synth(t, full), synth(t, bareStack)

	tableID := tmpl.only(t, "AWS::DynamoDB::GlobalTable")
	apiID := tmpl.only(t, "AWS::ApiGatewayV2::Api")

	// fnIDs maps each function's name to its logical id.
	fnIDs := map[string]string{}
	t.Run("one arm64 provided.al2023 function per route and job", func(t *testing.T) {
		ids := tmpl.ofType("AWS::Lambda::Function")
		if len(ids) != len(fns) {
			t.Errorf("%d functions, want %d", len(ids), len(fns))
		}
		for _, f := range fns {
			re := regexp.MustCompile("^" + routes.CamelCase(f.name) + "Fn[0-9A-F]{8}$")
			i := slices.IndexFunc(ids, re.MatchString)
			if i < 0 {
				t.Errorf("%s: no function", f.name)
				continue
			}
			id := ids[i]
			fnIDs[f.name] = id
			p := tmpl.Resources[id].Properties
			want := map[string]any{
				"Runtime":       "provided.al2023",
				"Architectures": []any{"arm64"},
				"Handler":       "bootstrap",
				"MemorySize":    float64(f.memoryMB),
				"Timeout":       f.timeout,
				"Description":   f.summary,
			}
			for k, v := range want {
				if got := p[k]; !equal(got, v) {
					t.Errorf("%s: %s = %v, want %v", f.name, k, got, v)
				}
			}
			vars := dig(p, "Environment", "Variables")
			// The Go runtime is tuned to the function's memory.
			for k, v := range routes.GoEnv(f.memoryMB) {
				if got := dig(vars, k); got != v {
					t.Errorf("%s: %s = %v, want %q", f.name, k, got, v)
				}
			}
			if got := dig(vars, config.EnvTableName); !equal(got, ref(tableID)) {
				t.Errorf("%s: %s = %v, want the table's name", f.name, config.EnvTableName, got)
			}
			if got := dig(vars, config.EnvEmailFrom); got != props.EmailFrom {
				t.Errorf("%s: %s = %v, want %q", f.name, config.EnvEmailFrom, got, props.EmailFrom)
			}
			if got := dig(vars, config.EnvCORSOrigins); got != strings.Join(corsOrigins, ",") {
				t.Errorf("%s: %s = %v, want the origins", f.name, config.EnvCORSOrigins, got)
			}
			// No public URL configured: the API's own endpoint.
			if got := dig(vars, config.EnvPublicBaseURL); !slices.Contains(refs(got), apiID) {
				t.Errorf("%s: %s = %v, want the API's endpoint", f.name, config.EnvPublicBaseURL, got)
			}
		}
	})
	if len(fnIDs) != len(fns) {
		t.FailNow() // the rest looks functions up by name
	}
	// dlqIDs maps each job's name to its dead-letter queue's logical id.
	dlqIDs := map[string]string{}
	queues := tmpl.ofType("AWS::SQS::Queue")
	for _, j := range queued {
		re := regexp.MustCompile("^" + routes.CamelCase(j.Name) + "DeadLetters[0-9A-F]{8}$")
		if i := slices.IndexFunc(queues, re.MatchString); i >= 0 {
			dlqIDs[j.Name] = queues[i]
		}
	}
	if len(queues) != len(queued) || len(dlqIDs) != len(queued) {
		t.Fatalf("queues %v, want one dead-letter queue per scheduled or stream job (%d)", queues, len(queued))
	}

	t.Run("each function logs to its own log group with a retention", func(t *testing.T) {
		seen := map[string]string{}
		for name, id := range fnIDs {
			lg := refs(dig(tmpl.Resources[id].Properties, "LoggingConfig", "LogGroup"))
			if len(lg) != 1 || tmpl.Resources[lg[0]].Type != "AWS::Logs::LogGroup" {
				t.Errorf("%s: LoggingConfig.LogGroup refers to %v, want one log group", name, lg)
				continue
			}
			if other, ok := seen[lg[0]]; ok {
				t.Errorf("%s and %s share log group %s", name, other, lg[0])
			}
			seen[lg[0]] = name
			r := tmpl.Resources[lg[0]]
			if got := r.Properties["RetentionInDays"]; got != 7.0 {
				t.Errorf("%s: RetentionInDays = %v, want 7", name, got)
			}
			if r.DeletionPolicy != "Delete" {
				t.Errorf("%s: log group DeletionPolicy = %q, want Delete", name, r.DeletionPolicy)
			}
		}
		// One more: the API's access logs (see "the API's access logs").
		if n := len(tmpl.ofType("AWS::Logs::LogGroup")); n != len(fns)+1 {
			t.Errorf("%d log groups, want one per function (%d) and the access logs", n, len(fns))
		}
	})

	t.Run("the table", func(t *testing.T) {
		r := tmpl.Resources[tableID]
		if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
			t.Errorf("DeletionPolicy %q, UpdateReplacePolicy %q, want Retain", r.DeletionPolicy, r.UpdateReplacePolicy)
		}
		p := r.Properties
		if _, named := p["TableName"]; named {
			t.Errorf("TableName = %v, want CloudFormation to name it", p["TableName"])
		}
		if got := p["BillingMode"]; got != "PAY_PER_REQUEST" {
			t.Errorf("BillingMode = %v", got)
		}
		if got, want := p["KeySchema"], keySchema(schema.PK, schema.SK); !equal(got, want) {
			t.Errorf("KeySchema = %v, want %v", got, want)
		}
		if got, want := p["TimeToLiveSpecification"], map[string]any{"AttributeName": schema.TTL, "Enabled": true}; !equal(got, want) {
			t.Errorf("TimeToLiveSpecification = %v, want %v", got, want)
		}
		replicas, _ := p["Replicas"].([]any)
		if len(replicas) != 1 {
			t.Fatalf("Replicas = %v, want one", p["Replicas"])
		}
		if got := dig(replicas[0], "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"); got != true {
			t.Errorf("PointInTimeRecoveryEnabled = %v", got)
		}
		if got := dig(replicas[0], "DeletionProtectionEnabled"); got != true {
			t.Errorf("DeletionProtectionEnabled = %v", got)
		}

		var want []any
		attrs := map[string]bool{schema.PK: true, schema.SK: true}
		for _, ix := range schema.Indexes {
			want = append(want, map[string]any{
				"IndexName":  ix.Name,
				"KeySchema":  keySchema(ix.PK, ix.SK),
				"Projection": map[string]any{"ProjectionType": "ALL"},
			})
			attrs[ix.PK], attrs[ix.SK] = true, true
		}
		if got := p["GlobalSecondaryIndexes"]; !equal(got, want) {
			t.Errorf("GlobalSecondaryIndexes =\n%v\nwant\n%v", got, want)
		}
		for _, a := range p["AttributeDefinitions"].([]any) {
			name := dig(a, "AttributeName").(string)
			if dig(a, "AttributeType") != "S" || !attrs[name] {
				t.Errorf("AttributeDefinitions has %v, want only string keys", a)
			}
			delete(attrs, name)
		}
		if len(attrs) > 0 {
			t.Errorf("AttributeDefinitions lacks %v", slices.Sorted(maps.Keys(attrs)))
		}
	})

	t.Run("grants", func(t *testing.T) {
		// Only the functions hold grants: no other role (a log retention
		// custom resource, say) exists.
		if n := len(tmpl.ofType("AWS::IAM::Role")); n != len(fns) {
			t.Errorf("%d roles, want one per function (%d)", n, len(fns))
		}
		byRole := tmpl.statementsByRole()
		for _, f := range fns {
			p := tmpl.Resources[fnIDs[f.name]].Properties
			role := refs(p["Role"])[0]
			if r := tmpl.Resources[role].Properties; r["ManagedPolicyArns"] != nil || r["Policies"] != nil {
				t.Errorf("%s: role has managed or inline policies: %v", f.name, r)
			}
			logGroup := refs(dig(p, "LoggingConfig", "LogGroup"))[0]

			var table []any
			actions := map[string]bool{}
			for _, s := range byRole[role] {
				if s["Effect"] != "Allow" {
					t.Errorf("%s: a statement that is not Allow: %v", f.name, s)
				}
				onStream := allResources(s, func(r any) bool { return equal(r, getAtt(tableID, "StreamArn")) })
				for _, a := range strs(s["Action"]) {
					actions[a] = true
					ok := false
					switch service, _, _ := strings.Cut(a, ":"); service {
					case "dynamodb":
						// A stream job reads the table's stream, and no
						// other function does.
						ok = allResources(s, derivedFrom(tableID)) && (!onStream || streamJobs[f.name] && slices.Contains(streamActions, a))
					case "logs":
						ok = allResources(s, derivedFrom(logGroup))
					case "ses":
						// The sending identities, and the configuration set
						// mail is sent with.
						ok = a == "ses:SendEmail" && allResources(s, func(r any) bool {
							return strings.HasSuffix(render(r), ":ses:${AWS::Region}:${AWS::AccountId}:identity/*") ||
								strings.HasSuffix(render(r), ":ses:${AWS::Region}:${AWS::AccountId}:configuration-set/"+props.SESConfigurationSet)
						}) && len(asList(s["Resource"])) == 2
					case "xray":
						// Tracing. X-Ray has no resource-level permissions:
						// its two actions are allowed on "*", and only them.
						ok = slices.Contains(xrayActions, a) && equal(s["Resource"], "*")
					case "sqs":
						// A job's failed events, to its own dead-letter
						// queue (a stream job's mapping also looks the
						// queue up).
						dlq, isJob := dlqIDs[f.name]
						ok = isJob && allResources(s, derivedFrom(dlq)) &&
							(a == "sqs:SendMessage" || streamJobs[f.name] && (a == "sqs:GetQueueAttributes" || a == "sqs:GetQueueUrl"))
					}
					if !ok {
						t.Errorf("%s: unexpected grant of %s on %s", f.name, a, render(s["Resource"]))
					}
				}
				if strings.HasPrefix(strs(s["Action"])[0], "dynamodb:") && !onStream {
					table = append(table, s)
				}
			}
			// The table statements are pkg/grants' statements, exactly: the
			// test that checks every DynamoDB call against pkg/grants thus
			// checks it against what the stack deploys.
			if got, want := renderStatements(table), renderStatements(wantStatements(f.grants)); got != want {
				t.Errorf("%s: table statements\n%s\nwant\n%s", f.name, got, want)
			}
			if actions["dynamodb:Scan"] {
				t.Errorf("%s may Scan", f.name)
			}
			if !actions["logs:PutLogEvents"] {
				t.Errorf("%s: lacks logs:PutLogEvents", f.name)
			}
			if actions["ses:SendEmail"] != f.sendsEmail {
				t.Errorf("%s: ses:SendEmail granted = %v, want %v", f.name, actions["ses:SendEmail"], f.sendsEmail)
			}
			for _, a := range xrayActions {
				if !actions[a] {
					t.Errorf("%s: lacks %s, which tracing needs", f.name, a)
				}
			}
			if _, isJob := dlqIDs[f.name]; actions["sqs:SendMessage"] != isJob {
				t.Errorf("%s: sqs:SendMessage granted = %v, want %v (jobs only)", f.name, actions["sqs:SendMessage"], isJob)
			}
			for _, a := range streamActions {
				if actions[a] != streamJobs[f.name] {
					t.Errorf("%s: %s granted = %v, want %v (stream jobs only)", f.name, a, actions[a], streamJobs[f.name])
				}
			}
		}
	})

	t.Run("no wildcard grants", func(t *testing.T) {
		// Every policy of both stacks: the roles' and the queues' resource
		// policies. An Allow never names an action with "*" ("*",
		// "dynamodb:*", "dynamodb:Get*"), and "*" is a resource of the X-Ray
		// actions only. (SES's identity/* is an ARN pattern, under this
		// account's identities.) A Deny may: the queues' policies deny
		// "sqs:*" to any request not over TLS.
		for name, tm := range map[string]*template{"Full": tmpl, "Bare": bareTmpl} {
			statements := tm.policyStatements()
			if len(statements) == 0 {
				t.Fatalf("%s: no policy statements", name)
			}
			for _, s := range statements {
				if s["Effect"] != "Allow" {
					continue
				}
				actions := strs(s["Action"])
				for _, a := range actions {
					if strings.Contains(a, "*") {
						t.Errorf("%s: a wildcard action %s in %v", name, a, s)
					}
				}
				if render(s["Principal"]) == "*" || render(dig(s["Principal"], "AWS")) == "*" {
					t.Errorf("%s: an Allow to any principal: %v", name, s)
				}
				resources, isList := s["Resource"].([]any)
				if !isList {
					resources = []any{s["Resource"]}
				}
				if slices.Contains(resources, any("*")) &&
					slices.ContainsFunc(actions, func(a string) bool { return !slices.Contains(xrayActions, a) }) {
					t.Errorf("%s: %v on \"*\": only the X-Ray actions may be", name, actions)
				}
			}
		}
	})

	t.Run("one API route per route, to its function", func(t *testing.T) {
		want := map[string]string{}
		for _, r := range allRoutes {
			want[r.Key()] = fnIDs[r.Name]
		}
		got := map[string]string{}
		for _, id := range tmpl.ofType("AWS::ApiGatewayV2::Route") {
			p := tmpl.Resources[id].Properties
			key := p["RouteKey"].(string)
			if _, dup := got[key]; dup {
				t.Errorf("route %s twice", key)
			}
			integID := refs(p["Target"])[0]
			if got := render(p["Target"]); got != "integrations/${"+integID+"}" {
				t.Errorf("%s: Target = %s", key, got)
			}
			integ := tmpl.Resources[integID]
			if v := integ.Properties["PayloadFormatVersion"]; v != "2.0" {
				t.Errorf("%s: PayloadFormatVersion = %v", key, v)
			}
			got[key] = refs(integ.Properties["IntegrationUri"])[0]
		}
		if !maps.Equal(got, want) {
			t.Errorf("routes (key: function) =\n%v\nwant\n%v", got, want)
		}
	})

	t.Run("the stage is throttled", func(t *testing.T) {
		check(t, func() {
			tmpl.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Stage"), jsii.Number(1))
			tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
				"ApiId":      ref(apiID),
				"StageName":  "$default",
				"AutoDeploy": true,
				"DefaultRouteSettings": map[string]any{
					"ThrottlingRateLimit":  7,
					"ThrottlingBurstLimit": 13,
				},
			})
		})
	})

	t.Run("CORS allows exactly the configured origins", func(t *testing.T) {
		cors := tmpl.Resources[apiID].Properties["CorsConfiguration"]
		want := map[string]any{
			"AllowOrigins":  corsOrigins,
			"AllowMethods":  []string{"GET", "POST", "PUT", "PATCH", "DELETE"},
			"AllowHeaders":  []string{"Authorization", "Content-Type", "Idempotency-Key"},
			"ExposeHeaders": []string{"X-Request-Id", "Retry-After", "Location"},
			"MaxAge":        3600,
		}
		if !equal(cors, want) {
			t.Errorf("CorsConfiguration = %v, want %v", cors, want)
		}
		if strings.Contains(render(cors), "*") {
			t.Errorf("CorsConfiguration allows *: %v", cors)
		}
	})

	t.Run("no origins, no CORS", func(t *testing.T) {
		check(t, func() {
			bareTmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), map[string]any{
				"CorsConfiguration": assertions.Match_Absent(),
			})
			bareTmpl.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
				"Environment": map[string]any{"Variables": map[string]any{
					config.EnvCORSOrigins:   "",
					config.EnvPublicBaseURL: bare.PublicBaseURL,
					// Unset: the functions' defaults.
					config.EnvInvitationURL: assertions.Match_Absent(), config.EnvPasswordResetURL: assertions.Match_Absent(),
					config.EnvProductName: assertions.Match_Absent(), config.EnvSESConfigSet: assertions.Match_Absent(),
				}},
			})
		})
	})

	t.Run("links, product and configuration set reach every function", func(t *testing.T) {
		check(t, func() {
			tmpl.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
				"Environment": map[string]any{"Variables": map[string]any{
					config.EnvInvitationURL: props.InvitationURL, config.EnvPasswordResetURL: props.PasswordResetURL,
					config.EnvProductName: props.ProductName, config.EnvSESConfigSet: props.SESConfigurationSet,
				}},
			})
		})
	})

	t.Run("each scheduled job runs on its schedule", func(t *testing.T) {
		rules := tmpl.ofType("AWS::Events::Rule")
		if len(rules) != len(scheduled) {
			t.Fatalf("%d rules, want %d", len(rules), len(scheduled))
		}
		for _, j := range scheduled {
			i := slices.IndexFunc(rules, func(id string) bool {
				return tmpl.Resources[id].Properties["ScheduleExpression"] == j.Schedule
			})
			if i < 0 {
				t.Errorf("%s: no rule with ScheduleExpression %q", j.Name, j.Schedule)
				continue
			}
			p := tmpl.Resources[rules[i]].Properties
			targets, _ := p["Targets"].([]any)
			if len(targets) != 1 || !equal(refs(dig(targets[0], "Arn")), []string{fnIDs[j.Name]}) {
				t.Errorf("%s: rule targets %v, want its function", j.Name, targets)
			} else if got := dig(targets[0], "RetryPolicy", "MaximumRetryAttempts"); got != 2.0 {
				t.Errorf("%s: MaximumRetryAttempts = %v, want 2", j.Name, got)
			}
			if p["State"] != "ENABLED" {
				t.Errorf("%s: rule State = %v", j.Name, p["State"])
			}
			check(t, func() {
				tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
					"Action":       "lambda:InvokeFunction",
					"FunctionName": map[string]any{"Fn::GetAtt": []any{fnIDs[j.Name], "Arn"}},
					"Principal":    "events.amazonaws.com",
					"SourceArn":    map[string]any{"Fn::GetAtt": []any{rules[i], "Arn"}},
				})
			})
		}
	})

	t.Run("every function is traced with X-Ray", func(t *testing.T) {
		// The stage cannot be: HTTP APIs have no X-Ray tracing (REST APIs
		// do), so the stage has no tracing setting to assert.
		for name, id := range fnIDs {
			if got := dig(tmpl.Resources[id].Properties, "TracingConfig", "Mode"); got != "Active" {
				t.Errorf("%s: TracingConfig.Mode = %v, want Active", name, got)
			}
		}
	})

	t.Run("a scheduled job reserves its concurrency and keeps its failures in its dead-letter queue", func(t *testing.T) {
		for name, id := range fnIDs {
			p := tmpl.Resources[id].Properties
			dlq, hasQueue := dlqIDs[name]
			isJob := hasQueue && !streamJobs[name]
			// A scheduled job reserves the concurrency of the stack's
			// props; a route none (API Gateway's throttle bounds them all),
			// nor a stream job (its shards bound it).
			if isJob && p["ReservedConcurrentExecutions"] != 2.0 {
				t.Errorf("%s: ReservedConcurrentExecutions %v, want 2", name, p["ReservedConcurrentExecutions"])
			}
			if !isJob && p["ReservedConcurrentExecutions"] != nil {
				t.Errorf("%s: ReservedConcurrentExecutions %v, want none", name, p["ReservedConcurrentExecutions"])
			}
			if !isJob {
				// Routes: no DLQ (API Gateway invokes them synchronously);
				// a stream job's is its mapping's destination.
				if p["DeadLetterConfig"] != nil {
					t.Errorf("%s: DeadLetterConfig %v, want none", name, p["DeadLetterConfig"])
				}
				continue
			}
			if got := dig(p, "DeadLetterConfig", "TargetArn"); !equal(got, getAtt(dlq, "Arn")) {
				t.Errorf("%s: DeadLetterConfig.TargetArn = %v, want its queue's", name, got)
			}
			q := tmpl.Resources[dlq].Properties
			want := map[string]any{"SqsManagedSseEnabled": true, "MessageRetentionPeriod": 14 * 24 * 3600}
			for k, v := range want {
				if !equal(q[k], v) {
					t.Errorf("%s: queue %s = %v, want %v", name, k, q[k], v)
				}
			}
			if q["KmsMasterKeyId"] != nil {
				t.Errorf("%s: queue KmsMasterKeyId = %v, want SQS-managed encryption", name, q["KmsMasterKeyId"])
			}
		}
		for _, j := range scheduled {
			dlq := dlqIDs[j.Name]
			// The schedule's target sends what it could not deliver there too.
			i := slices.IndexFunc(tmpl.ofType("AWS::Events::Rule"), func(id string) bool {
				return tmpl.Resources[id].Properties["ScheduleExpression"] == j.Schedule
			})
			rule := tmpl.ofType("AWS::Events::Rule")[i]
			target := tmpl.Resources[rule].Properties["Targets"].([]any)[0]
			if got := dig(target, "DeadLetterConfig", "Arn"); !equal(got, getAtt(dlq, "Arn")) {
				t.Errorf("%s: the rule target's DeadLetterConfig.Arn = %v, want the job's queue", j.Name, got)
			}
			check(t, func() {
				// The queue takes only TLS, and EventBridge may send to it
				// for this rule only.
				tmpl.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
					"Queues": []any{ref(dlq)},
					"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
						assertions.Match_ObjectLike(&map[string]any{
							"Effect":    "Deny",
							"Action":    "sqs:*",
							"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
							"Principal": map[string]any{"AWS": "*"},
							"Resource":  getAtt(dlq, "Arn"),
						}),
						assertions.Match_ObjectLike(&map[string]any{
							"Effect":    "Allow",
							"Action":    "sqs:SendMessage",
							"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": getAtt(rule, "Arn")}},
							"Principal": map[string]any{"Service": "events.amazonaws.com"},
							"Resource":  getAtt(dlq, "Arn"),
						}),
					})},
				})
			})
		}
	})

	t.Run("a stream job reads the table's stream through a filtered mapping", func(t *testing.T) {
		if got := dig(tmpl.Resources[tableID].Properties, "StreamSpecification", "StreamViewType"); got != schema.StreamView {
			t.Errorf("the table's StreamViewType = %v, want %s", got, schema.StreamView)
		}
		mappings := tmpl.ofType("AWS::Lambda::EventSourceMapping")
		streamed := 0
		for _, j := range jobs {
			if j.Stream == nil {
				continue
			}
			streamed++
			i := slices.IndexFunc(mappings, func(id string) bool {
				return equal(tmpl.Resources[id].Properties["FunctionName"], ref(fnIDs[j.Name]))
			})
			if i < 0 {
				t.Errorf("%s: no event source mapping", j.Name)
				continue
			}
			p := tmpl.Resources[mappings[i]].Properties
			want := map[string]any{
				"EventSourceArn":             getAtt(tableID, "StreamArn"),
				"StartingPosition":           "TRIM_HORIZON",
				"BatchSize":                  10,
				"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
				"BisectBatchOnFunctionError": true,
				"MaximumRetryAttempts":       20,
				"MaximumRecordAgeInSeconds":  6 * 3600,
				"DestinationConfig":          map[string]any{"OnFailure": map[string]any{"Destination": getAtt(dlqIDs[j.Name], "Arn")}},
			}
			for k, v := range want {
				if !equal(p[k], v) {
					t.Errorf("%s: mapping %s = %v, want %v", j.Name, k, p[k], v)
				}
			}
			// The filter is the job's routes.Stream: insertions under its
			// prefix, what Matches accepts.
			filters, _ := dig(p, "FilterCriteria", "Filters").([]any)
			var pattern map[string]any
			if len(filters) == 1 {
				_ = json.Unmarshal([]byte(dig(filters[0], "Pattern").(string)), &pattern)
			}
			wantPattern := map[string]any{"eventName": []any{"INSERT"},
				"dynamodb": map[string]any{"Keys": map[string]any{"pk": map[string]any{"S": []any{map[string]any{"prefix": j.Stream.KeyPrefix}}}}}}
			if !equal(pattern, wantPattern) {
				t.Errorf("%s: filter %v, want %v", j.Name, pattern, wantPattern)
			}
		}
		if len(mappings) != streamed {
			t.Errorf("%d event source mappings, want %d", len(mappings), streamed)
		}
	})

	t.Run("a deploy job stands behind a custom resource", func(t *testing.T) {
		for _, j := range jobs {
			if !j.OnDeploy {
				continue
			}
			var found []string
			for id, r := range tmpl.Resources {
				if r.Type == "Custom::"+routes.CamelCase(j.Name) {
					found = append(found, id)
				}
			}
			if len(found) != 1 {
				t.Errorf("%s: %d custom resources, want 1", j.Name, len(found))
				continue
			}
			if got := tmpl.Resources[found[0]].Properties["ServiceToken"]; !equal(got, getAtt(fnIDs[j.Name], "Arn")) {
				t.Errorf("%s: ServiceToken = %v, want its function's ARN", j.Name, got)
			}
		}
	})

	t.Run("the API's access logs", func(t *testing.T) {
		stage := tmpl.Resources[tmpl.only(t, "AWS::ApiGatewayV2::Stage")].Properties
		logs := refs(dig(stage, "AccessLogSettings", "DestinationArn"))
		if len(logs) != 1 || tmpl.Resources[logs[0]].Type != "AWS::Logs::LogGroup" {
			t.Fatalf("AccessLogSettings.DestinationArn refers to %v, want a log group", logs)
		}
		if !equal(dig(stage, "AccessLogSettings", "DestinationArn"), getAtt(logs[0], "Arn")) {
			t.Errorf("AccessLogSettings.DestinationArn = %v", dig(stage, "AccessLogSettings", "DestinationArn"))
		}
		if slices.Contains(slices.Collect(maps.Values(fnIDs)), logs[0]) {
			t.Errorf("the access logs share a function's log group")
		}
		if got := tmpl.Resources[logs[0]].Properties["RetentionInDays"]; got != 7.0 {
			t.Errorf("access log group RetentionInDays = %v, want 7", got)
		}

		format, _ := dig(stage, "AccessLogSettings", "Format").(string)
		var fields map[string]string
		if err := json.Unmarshal([]byte(format), &fields); err != nil {
			t.Fatalf("Format %q is not a JSON object of strings: %v", format, err)
		}
		want := map[string]string{
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
		if !maps.Equal(fields, want) {
			t.Errorf("access log fields\n%v\nwant\n%v", fields, want)
		}
		// Never a secret or what a URL carries: no header (the
		// Authorization header is a bearer token), no query string, no path.
		for _, bad := range []string{"authorization", "header", "querystring", "$request.", "$context.path", "$context.authorizer"} {
			if strings.Contains(strings.ToLower(format), strings.ToLower(bad)) {
				t.Errorf("the access log format has %q: %s", bad, format)
			}
		}
	})

	t.Run("every log group has a retention", func(t *testing.T) {
		for name, tm := range map[string]*template{"Full": tmpl, "Bare": bareTmpl} {
			groups := tm.ofType("AWS::Logs::LogGroup")
			if len(groups) == 0 {
				t.Errorf("%s: no log groups", name)
			}
			for _, id := range groups {
				if got := tm.Resources[id].Properties["RetentionInDays"]; got != 7.0 {
					t.Errorf("%s: %s RetentionInDays = %v, want 7", name, id, got)
				}
			}
		}
	})

	t.Run("alarms", func(t *testing.T) {
		alarms := tmpl.ofType("AWS::CloudWatch::Alarm")
		// One per function, on its errors and throttles (a job's errors
		// are its failed runs'), the table's throttles and system errors,
		// and each job's dead-letter queue.
		if want := len(fns) + 2 + len(queued); len(alarms) != want {
			t.Errorf("%d alarms, want %d", len(alarms), want)
		}
		for _, id := range alarms {
			p := tmpl.Resources[id].Properties
			if !equal(p["AlarmActions"], []any{alarmTopic}) {
				t.Errorf("%s: AlarmActions = %v, want the topic", id, p["AlarmActions"])
			}
			if p["TreatMissingData"] != "notBreaching" || p["EvaluationPeriods"] != 1.0 {
				t.Errorf("%s: TreatMissingData %v, EvaluationPeriods %v", id, p["TreatMissingData"], p["EvaluationPeriods"])
			}
		}
		// byMetric finds the alarms on one metric of one resource.
		byMetric := func(namespace, metric, dimension string, value any) []map[string]any {
			var found []map[string]any
			for _, id := range alarms {
				p := tmpl.Resources[id].Properties
				if p["Namespace"] == namespace && p["MetricName"] == metric &&
					equal(p["Dimensions"], []any{map[string]any{"Name": dimension, "Value": value}}) {
					found = append(found, p)
				}
			}
			return found
		}
		// A function's alarm: its errors and its throttles, each filled
		// with 0 so that a period without throttles still counts its
		// errors.
		fnAlarms := map[string]int{}
		for _, id := range alarms {
			p := tmpl.Resources[id].Properties
			queries, _ := p["Metrics"].([]any)
			var expression, fnRef string
			metrics := map[string]string{} // metric name -> query id
			for _, q := range queries {
				if e, ok := dig(q, "Expression").(string); ok {
					expression = e
					continue
				}
				stat := dig(q, "MetricStat")
				if dig(stat, "Metric", "Namespace") != "AWS/Lambda" {
					break
				}
				if dig(stat, "Stat") != "Sum" || dig(stat, "Period") != 300.0 {
					t.Errorf("%s: metric %v", id, q)
				}
				metrics[dig(stat, "Metric", "MetricName").(string)] = dig(q, "Id").(string)
				if d := dig(stat, "Metric", "Dimensions").([]any); len(d) == 1 && dig(d[0], "Name") == "FunctionName" {
					fnRef = render(dig(d[0], "Value"))
				}
			}
			if fnRef == "" {
				continue
			}
			fnAlarms[fnRef]++
			if len(metrics) != 2 || metrics["Errors"] == "" || metrics["Throttles"] == "" ||
				expression != "FILL("+metrics["Errors"]+", 0) + FILL("+metrics["Throttles"]+", 0)" {
				t.Errorf("%s: metrics %v, expression %q: want the errors and throttles, each filled with 0", id, metrics, expression)
			}
			if p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || p["Threshold"] != 1.0 {
				t.Errorf("%s: %v %v", id, p["ComparisonOperator"], p["Threshold"])
			}
		}
		for name, id := range fnIDs {
			if n := fnAlarms["${"+id+"}"]; n != 1 {
				t.Errorf("%s: %d alarms on its errors and throttles, want 1", name, n)
			}
		}
		for name, dlq := range dlqIDs {
			found := byMetric("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", getAtt(dlq, "QueueName"))
			if len(found) != 1 {
				t.Errorf("%s: %d alarms on its dead-letter queue, want 1", name, len(found))
				continue
			}
			want := map[string]any{"ComparisonOperator": "GreaterThanThreshold", "Threshold": 0, "Period": 300}
			for k, v := range want {
				if !equal(found[0][k], v) {
					t.Errorf("%s: dead-letter alarm %s = %v, want %v", name, k, found[0][k], v)
				}
			}
		}

		// The table's: a sum over the operations, each filled with 0.
		for _, metric := range []string{"ThrottledRequests", "SystemErrors"} {
			var found []map[string]any
			for _, id := range alarms {
				p := tmpl.Resources[id].Properties
				if strings.Contains(render(p["Metrics"]), metric) {
					found = append(found, p)
				}
			}
			if len(found) != 1 {
				t.Errorf("%d alarms on the table's %s, want 1", len(found), metric)
				continue
			}
			p := found[0]
			if p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || p["Threshold"] != 1.0 {
				t.Errorf("%s alarm: %v %v", metric, p["ComparisonOperator"], p["Threshold"])
			}
			queries, _ := p["Metrics"].([]any)
			// CloudWatch refuses an alarm on more than 10 metrics.
			if len(queries) < 2 || len(queries) > 11 {
				t.Fatalf("%s alarm: %d metric queries, want an expression of at most 10 metrics", metric, len(queries))
			}
			var expression string
			for _, q := range queries {
				if e, ok := dig(q, "Expression").(string); ok {
					expression = e
				}
			}
			ops := map[string]bool{}
			for _, q := range queries {
				stat := dig(q, "MetricStat")
				if stat == nil {
					continue // the expression
				}
				if dig(stat, "Metric", "MetricName") != metric || dig(stat, "Stat") != "Sum" || dig(stat, "Period") != 300.0 {
					t.Errorf("%s alarm: metric %v", metric, q)
				}
				for _, d := range dig(stat, "Metric", "Dimensions").([]any) {
					switch dig(d, "Name") {
					case "TableName":
						if !equal(dig(d, "Value"), ref(tableID)) {
							t.Errorf("%s alarm: TableName %v", metric, dig(d, "Value"))
						}
					case "Operation":
						ops[dig(d, "Value").(string)] = true
					}
				}
				// A missing data point of one operation must not hide
				// another's throttle.
				if id := dig(q, "Id").(string); !strings.Contains(expression, "FILL("+id+", 0)") {
					t.Errorf("%s alarm: %s is not filled with 0 in %q", metric, id, expression)
				}
			}
			for _, op := range []string{"GetItem", "BatchGetItem", "Query", "TransactWriteItems", "UpdateItem", "BatchWriteItem"} {
				if !ops[op] {
					t.Errorf("%s alarm lacks operation %s (has %v)", metric, op, slices.Sorted(maps.Keys(ops)))
				}
			}
			if ops["Scan"] {
				t.Errorf("%s alarm: Scan, which no function may call", metric)
			}
		}

		// No topic, no actions.
		for _, id := range bareTmpl.ofType("AWS::CloudWatch::Alarm") {
			if a := bareTmpl.Resources[id].Properties["AlarmActions"]; a != nil {
				t.Errorf("bare: %s AlarmActions = %v, want none", id, a)
			}
		}
		if n, want := len(bareTmpl.ofType("AWS::CloudWatch::Alarm")), len(bare.Routes)+2; n != want {
			t.Errorf("bare: %d alarms, want %d", n, want)
		}
	})

	t.Run("AWS Solutions and Serverless rule packs", func(t *testing.T) {
		// cdk-nag reports a finding as an annotation; a suppressed one is
		// none. Errors fail `cdk synth`; warnings are fixed too.
		rule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*|Serverless-.*"))
		for name, stack := range map[string]awscdk.Stack{"Full": full, "Bare": bareStack} {
			annotations := assertions.Annotations_FromStack(stack)
			for level, found := range map[string]*[]*cxapi.SynthesisMessage{
				"error":   annotations.FindError(jsii.String("*"), rule),
				"warning": annotations.FindWarning(jsii.String("*"), rule),
			} {
				for _, m := range *found {
					t.Errorf("%s: %s at %s: %v", name, level, *m.Id, m.Entry.Data)
				}
			}
		}

		// Every suppression is one of these, each with its reason in
		// stack.go: a new one is a decision to review, not a way to
		// silence a finding.
		allowed := map[string]bool{
			"AwsSolutions-APIG4":          true, // authorization is the functions'
			"AwsSolutions-IAM5":           true, // X-Ray on *, the table's indexes, SES identities
			"Serverless-LambdaDLQ":        true, // routes are invoked synchronously
			"Serverless-SQSRedrivePolicy": true, // the queues are dead-letter queues
			"AwsSolutions-SQS3":           true, // a stream mapping's destination is a dead-letter queue the rule cannot see
		}
		for name, tm := range map[string]*template{"Full": tmpl, "Bare": bareTmpl} {
			for id, r := range tm.Resources {
				for _, s := range r.Metadata.CdkNag.RulesToSuppress {
					if !allowed[s.ID] || len(s.Reason) < 40 {
						t.Errorf("%s: %s suppresses %s: %q", name, id, s.ID, s.Reason)
					}
					// IAM5 only for named findings, never the whole rule.
					if s.ID == "AwsSolutions-IAM5" && len(s.AppliesTo) == 0 {
						t.Errorf("%s: %s suppresses every AwsSolutions-IAM5 finding", name, id)
					}
				}
			}
			if m := tm.ToJSON(); (*m)["Metadata"] != nil {
				t.Errorf("%s: stack-wide metadata (suppressions?): %v", name, (*m)["Metadata"])
			}
		}
	})

	t.Run("outputs", func(t *testing.T) {
		check(t, func() {
			tmpl.HasOutput(jsii.String("TableName"), map[string]any{"Value": ref(tableID)})
			tmpl.HasOutput(jsii.String("ApiUrl"), map[string]any{})
		})
	})

	// The console is served by its routes, like the API (one route and one
	// function each, above); the stack prints its address when it has them.
	t.Run("the console's address is an output where the stack serves it", func(t *testing.T) {
		outputs := func(tm *template) map[string]any {
			m, _ := (*tm.ToJSON())["Outputs"].(map[string]any)
			return m
		}
		out, ok := outputs(tmpl)["ConsoleUrl"].(map[string]any)
		if !ok {
			t.Fatalf("no ConsoleUrl output: %v", outputs(tmpl))
		}
		got := render(out["Value"])
		if got != "${"+apiID+".ApiEndpoint}/console" {
			t.Errorf("ConsoleUrl = %s, want the API's endpoint and /console", got)
		}
		for _, name := range []string{"console", "console-file"} {
			r, _ := routes.ByName(name)
			if r.Access != routes.Public || r.Kind != routes.Page || grants.ForRoute(r) != nil {
				t.Errorf("%s: access %s, kind %d, grants %v: want a public page that reads nothing", name, r.Access, r.Kind, grants.ForRoute(r))
			}
		}
		if _, ok := outputs(bareTmpl)["ConsoleUrl"]; ok {
			t.Error("a stack without the console's routes prints its address")
		}
	})
}

// wantStatements is the template's form of pkg/grants statements, with the
// table's ARN written ${Table.Arn}.
func wantStatements(statements []grants.Statement) []any {
	var out []any
	for _, st := range statements {
		var actions []string
		for _, a := range st.Actions {
			actions = append(actions, "dynamodb:"+string(a))
		}
		resources := []any{"${Table.Arn}"}
		if st.Indexes {
			resources = append(resources, "${Table.Arn}/index/*")
		}
		s := map[string]any{"Sid": st.Sid, "Effect": "Allow", "Action": actions, "Resource": resources}
		cond := map[string]any{}
		if st.Attributes != nil {
			cond["ForAllValues:StringEquals"] = map[string]any{"dynamodb:Attributes": st.Attributes}
			cond["StringEqualsIfExists"] = map[string]any{"dynamodb:ReturnValues": grants.ReturnValuesAllowed}
		}
		if st.LeadingKeys != nil {
			cond["ForAllValues:StringLike"] = map[string]any{"dynamodb:LeadingKeys": st.LeadingKeys}
		}
		if len(cond) > 0 {
			s["Condition"] = cond
		}
		out = append(out, s)
	}
	// As decoded JSON, like the template's.
	b, _ := json.Marshal(out)
	var decoded []any
	_ = json.Unmarshal(b, &decoded)
	return decoded
}

// renderStatements writes statements canonically: actions and resources as
// lists, references by name, the table's logical id as "Table".
func renderStatements(statements []any) string {
	var lines []string
	for _, v := range statements {
		s := v.(map[string]any)
		var res []string
		if r, ok := s["Resource"].([]any); ok {
			for _, x := range r {
				res = append(res, tableName(render(x)))
			}
		} else {
			res = append(res, tableName(render(s["Resource"])))
		}
		cond, _ := json.Marshal(s["Condition"])
		lines = append(lines, fmt.Sprintf("%v %s %v %v %s", s["Sid"], s["Effect"], strs(s["Action"]), res, cond))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// tableName replaces the table's logical id (Table plus a hash) with "Table".
func tableName(s string) string {
	return regexp.MustCompile(`\$\{Table[0-9A-F]{8}\.Arn\}`).ReplaceAllString(s, "${Table.Arn}")
}

func TestStackProps(t *testing.T) {
	lookup := func(ctx map[string]string) func(string) (string, bool) {
		return func(key string) (string, bool) { v, ok := ctx[key]; return v, ok }
	}

	name, p, err := stackProps(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if name != "UserManagement" || *p.StackName != name || p.EmailFrom != "no-reply@example.com" ||
		p.PublicBaseURL != "" || p.CORSOrigins != nil || p.ThrottleRate != 50 || p.ThrottleBurst != 100 ||
		p.LogRetention != awslogs.RetentionDays_ONE_MONTH || p.AlarmTopicARN != "" || p.JobConcurrency != 1 ||
		len(p.Routes) != len(routes.All) || len(p.Jobs) != len(routes.Jobs) {
		t.Errorf("defaults: %q %+v", name, p)
	}
	if got := p.CodeDir("get-me"); got != filepath.Join(".build", "functions", "get-me") {
		t.Errorf("CodeDir = %q", got)
	}

	name, p, err = stackProps(lookup(map[string]string{
		"stackName": "Staging", "corsOrigins": " https://a.example , https://b.example,",
		"throttleRate": "5", "logRetentionDays": "90", "alarmTopicArn": alarmTopic,
		"invitationUrl": "https://app.example/join", "productName": "Acme", "sesConfigurationSet": "mail-events",
		"jobConcurrency": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if name != "Staging" || !slices.Equal(p.CORSOrigins, []string{"https://a.example", "https://b.example"}) ||
		p.ThrottleRate != 5 || p.LogRetention != awslogs.RetentionDays_THREE_MONTHS || p.AlarmTopicARN != alarmTopic ||
		p.InvitationURL != "https://app.example/join" || p.ProductName != "Acme" || p.SESConfigurationSet != "mail-events" ||
		p.JobConcurrency != 0 {
		t.Errorf("overrides: %q %+v", name, p)
	}

	_, _, err = stackProps(lookup(map[string]string{"logRetentionDays": "31", "throttleBurst": "-1", "throttleRate": "lots",
		"alarmTopicArn": "arn:aws:sqs:eu-west-1:123456789012:not-a-topic", "invitationUrl": "/join#x", "jobConcurrency": "-1"}))
	for _, key := range []string{"logRetentionDays", "throttleBurst", "throttleRate", "alarmTopicArn", config.EnvInvitationURL, "jobConcurrency"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("bad %s: err = %v", key, err)
		}
	}
}

// template is a synthesized CloudFormation template, read back from JSON so
// most checks are plain Go with messages that name the function at fault.
type template struct {
	assertions.Template
	Resources map[string]struct {
		Type                string
		Properties          map[string]any
		DeletionPolicy      string
		UpdateReplacePolicy string
		Metadata            struct {
			CdkNag struct {
				RulesToSuppress []struct {
					ID        string `json:"id"`
					Reason    string `json:"reason"`
					AppliesTo []any  `json:"applies_to"`
				} `json:"rules_to_suppress"`
			} `json:"cdk_nag"`
		}
	}
}

func synth(t *testing.T, stack awscdk.Stack) *template {
	t.Helper()
	tmpl := &template{Template: assertions.Template_FromStack(stack, nil)}
	b, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// ofType lists the logical ids of the resources of one type, sorted.
func (tmpl *template) ofType(typ string) []string {
	var ids []string
	for id, r := range tmpl.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (tmpl *template) only(t *testing.T, typ string) string {
	t.Helper()
	ids := tmpl.ofType(typ)
	if len(ids) != 1 {
		t.Fatalf("%d %s, want 1", len(ids), typ)
	}
	return ids[0]
}

// statementsByRole gathers the policy statements attached to each role.
func (tmpl *template) statementsByRole() map[string][]map[string]any {
	by := map[string][]map[string]any{}
	for _, id := range tmpl.ofType("AWS::IAM::Policy") {
		p := tmpl.Resources[id].Properties
		statements, _ := dig(p, "PolicyDocument", "Statement").([]any)
		for _, role := range refs(p["Roles"]) {
			for _, s := range statements {
				by[role] = append(by[role], s.(map[string]any))
			}
		}
	}
	return by
}

// policyStatements gathers every policy statement of the template: of IAM
// policies, roles' inline policies and resource policies (a queue's).
func (tmpl *template) policyStatements() []map[string]any {
	var out []map[string]any
	add := func(doc any) {
		statements, _ := dig(doc, "Statement").([]any)
		for _, s := range statements {
			out = append(out, s.(map[string]any))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(tmpl.Resources)) {
		p := tmpl.Resources[id].Properties
		add(p["PolicyDocument"])
		policies, _ := p["Policies"].([]any)
		for _, policy := range policies {
			add(dig(policy, "PolicyDocument"))
		}
	}
	return out
}

// codeDirs makes an empty bootstrap for each function, as make build would.
func codeDirs(t *testing.T, fns []wantFn) func(string) string {
	root := t.TempDir()
	for _, f := range fns {
		dir := filepath.Join(root, f.name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "bootstrap"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return func(name string) string { return filepath.Join(root, name) }
}

// check turns a failed CDK assertion, which panics, into a test error.
func check(t *testing.T, assert func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Error(r)
		}
	}()
	assert()
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func getAtt(id, attribute string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attribute}}
}

func keySchema(pk, sk string) []any {
	return []any{
		map[string]any{"AttributeName": pk, "KeyType": "HASH"},
		map[string]any{"AttributeName": sk, "KeyType": "RANGE"},
	}
}

// dig follows keys through nested JSON objects; nil if one is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// refs lists the logical ids a value refers to with Ref or Fn::GetAtt,
// pseudo parameters (AWS::Region) left out.
func refs(v any) []string {
	var ids []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if id, ok := v["Ref"].(string); ok && !strings.HasPrefix(id, "AWS::") {
				ids = append(ids, id)
			}
			if att, ok := v["Fn::GetAtt"].([]any); ok {
				ids = append(ids, att[0].(string))
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k])
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return ids
}

// allResources reports whether a statement names resources and ok accepts
// every one.
func allResources(statement map[string]any, ok func(resource any) bool) bool {
	resources, isList := statement["Resource"].([]any)
	if !isList {
		resources = []any{statement["Resource"]}
	}
	return !slices.ContainsFunc(resources, func(r any) bool { return !ok(r) })
}

// derivedFrom accepts a resource built from id alone: its ARN, or an ARN
// under it (a table's indexes, a log group's streams); never "*".
func derivedFrom(id string) func(resource any) bool {
	return func(resource any) bool {
		ids := refs(resource)
		return len(ids) > 0 && !slices.ContainsFunc(ids, func(r string) bool { return r != id })
	}
}

// render flattens a value to a string, Fn::Join joined and references
// written ${id}, so an ARN built from tokens can be read.
func render(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = render(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		if id, ok := v["Ref"].(string); ok {
			return "${" + id + "}"
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok {
			return "${" + att[0].(string) + "." + att[1].(string) + "}"
		}
		if join, ok := v["Fn::Join"].([]any); ok {
			var b strings.Builder
			for _, e := range join[1].([]any) {
				b.WriteString(render(e))
			}
			return b.String()
		}
	}
	return fmt.Sprint(v)
}

// strs reads an IAM Action or Resource, a string or a list of them.
func strs(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

// equal compares decoded JSON with a Go value by their JSON encodings.
func equal(got, want any) bool {
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	return string(a) == string(b)
}

// asList is a statement's Resource as a list.
func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}
