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
)

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
	jobs := []routes.Job{fakeJob}

	var fns []wantFn
	for _, r := range allRoutes {
		fns = append(fns, wantFn{r.Name, r.Summary, grants.ForRoute(r), r.SendsEmail, 28, r.MemoryMB()})
	}
	for _, j := range jobs {
		fns = append(fns, wantFn{j.Name, j.Summary, grants.ForJob(j), j.SendsEmail, 300, routes.JobMemory})
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
	}
	full := NewStack(app, "Full", props)

	// Without origins, jobs or a public URL: what those turn off.
	bare := props
	bare.Routes = routes.All[:1]
	bare.Jobs = nil
	bare.CORSOrigins = nil
	bare.PublicBaseURL = "https://users.example.com"
	bareStack := NewStack(app, "Bare", bare)

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
		if n := len(tmpl.ofType("AWS::Logs::LogGroup")); n != len(fns) {
			t.Errorf("%d log groups, want %d", n, len(fns))
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
				for _, a := range strs(s["Action"]) {
					actions[a] = true
					ok := false
					switch service, _, _ := strings.Cut(a, ":"); service {
					case "dynamodb":
						ok = allResources(s, derivedFrom(tableID))
					case "logs":
						ok = allResources(s, derivedFrom(logGroup))
					case "ses":
						ok = a == "ses:SendEmail" && allResources(s, func(r any) bool {
							return strings.HasSuffix(render(r), ":ses:${AWS::Region}:${AWS::AccountId}:identity/*")
						})
					}
					if !ok {
						t.Errorf("%s: unexpected grant of %s on %s", f.name, a, render(s["Resource"]))
					}
				}
				if strings.HasPrefix(strs(s["Action"])[0], "dynamodb:") {
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
				}},
			})
		})
	})

	t.Run("each job runs on its schedule", func(t *testing.T) {
		rules := tmpl.ofType("AWS::Events::Rule")
		if len(rules) != len(jobs) {
			t.Fatalf("%d rules, want %d", len(rules), len(jobs))
		}
		for _, j := range jobs {
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

	t.Run("outputs", func(t *testing.T) {
		check(t, func() {
			tmpl.HasOutput(jsii.String("TableName"), map[string]any{"Value": ref(tableID)})
			tmpl.HasOutput(jsii.String("ApiUrl"), map[string]any{})
		})
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
		p.LogRetention != awslogs.RetentionDays_ONE_MONTH ||
		len(p.Routes) != len(routes.All) || len(p.Jobs) != len(routes.Jobs) {
		t.Errorf("defaults: %q %+v", name, p)
	}
	if got := p.CodeDir("get-me"); got != filepath.Join(".build", "functions", "get-me") {
		t.Errorf("CodeDir = %q", got)
	}

	name, p, err = stackProps(lookup(map[string]string{
		"stackName": "Staging", "corsOrigins": " https://a.example , https://b.example,",
		"throttleRate": "5", "logRetentionDays": "90",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if name != "Staging" || !slices.Equal(p.CORSOrigins, []string{"https://a.example", "https://b.example"}) ||
		p.ThrottleRate != 5 || p.LogRetention != awslogs.RetentionDays_THREE_MONTHS {
		t.Errorf("overrides: %q %+v", name, p)
	}

	_, _, err = stackProps(lookup(map[string]string{"logRetentionDays": "31", "throttleBurst": "-1", "throttleRate": "lots"}))
	for _, key := range []string{"logRetentionDays", "throttleBurst", "throttleRate"} {
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
