package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/routes"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
}

func run() error {
	defer jsii.Close()
	app := awscdk.NewApp(nil)

	// Context comes from cdk.json (typed JSON) or from `cdk -c key=value`
	// (always a string); printing the value reads both the same way.
	lookup := func(key string) (string, bool) {
		v := app.Node().TryGetContext(jsii.String(key))
		if v == nil {
			return "", false
		}
		return strings.TrimSpace(fmt.Sprint(v)), true
	}
	name, props, err := stackProps(lookup)
	if err != nil {
		return err
	}
	if err := checkBootstraps(props); err != nil {
		return err
	}

	addRulePacks(NewStack(app, name, props))
	app.Synth(nil)
	return nil
}

// stackProps reads the stack's name and settings from CDK context, with the
// defaults below for what is not set. Every bad value is reported at once.
func stackProps(lookup func(key string) (string, bool)) (string, StackProps, error) {
	str := func(key, def string) string {
		if v, ok := lookup(key); ok && v != "" {
			return v
		}
		return def
	}
	var errs []error
	num := func(key string, def float64) float64 {
		v, ok := lookup(key)
		if !ok || v == "" {
			return def
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("context %s must be a positive number, got %q", key, v))
		}
		return n
	}

	var origins []string
	for o := range strings.SplitSeq(str("corsOrigins", ""), ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	days := num("logRetentionDays", 30)
	retention, ok := retentionDays[days]
	if !ok {
		errs = append(errs, fmt.Errorf("context logRetentionDays must be one of %v, got %v",
			slices.Sorted(maps.Keys(retentionDays)), days))
	}

	topic := str("alarmTopicArn", "")
	if topic != "" && !snsARN.MatchString(topic) {
		errs = append(errs, fmt.Errorf("context alarmTopicArn must be an SNS topic's ARN, got %q", topic))
	}

	jobs := 1
	if v, ok := lookup("jobConcurrency"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("context jobConcurrency must be a whole number, 0 or more, got %q", v))
		}
		jobs = n
	}

	name := str("stackName", "UserManagement")
	props := StackProps{
		StackProps: awscdk.StackProps{
			StackName:   &name,
			Description: jsii.String("User management API: HTTP API, one Lambda function per route, DynamoDB, SES"),
			// Unset outside `cdk` (or without credentials): the stack is then
			// environment-agnostic.
			Env: &awscdk.Environment{
				Account: getenv("CDK_DEFAULT_ACCOUNT"),
				Region:  getenv("CDK_DEFAULT_REGION"),
			},
		},
		Routes: routes.All,
		Jobs:   routes.Jobs,
		// Relative to the working directory: cdk runs the app from the
		// repository root, where `make build` leaves the binaries.
		CodeDir: func(name string) string {
			return filepath.Join(".build", "functions", name)
		},
		EmailFrom:           str("emailFrom", "no-reply@example.com"),
		PublicBaseURL:       str("publicBaseUrl", ""),
		InvitationURL:       str("invitationUrl", ""),
		PasswordResetURL:    str("passwordResetUrl", ""),
		ProductName:         str("productName", ""),
		SESConfigurationSet: str("sesConfigurationSet", ""),
		CORSOrigins:         origins,
		ThrottleRate:        num("throttleRate", 50),
		ThrottleBurst:       num("throttleBurst", 100),
		LogRetention:        retention,
		AlarmTopicARN:       topic,
		JobConcurrency:      jobs,
	}
	// The functions' own configuration rules, applied now: a bad sender or
	// link fails the synth rather than every cold start after the deploy.
	// (An empty publicBaseUrl becomes the API's endpoint, which is valid.)
	base := props.PublicBaseURL
	if base == "" {
		base = "https://api.invalid"
	}
	fnEnv := map[string]string{
		config.EnvTableName: "table", config.EnvEmailFrom: props.EmailFrom, config.EnvPublicBaseURL: base,
		config.EnvInvitationURL: props.InvitationURL, config.EnvPasswordResetURL: props.PasswordResetURL,
	}
	if _, err := config.FromEnv(func(k string) string { return fnEnv[k] }); err != nil {
		errs = append(errs, fmt.Errorf("context: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return "", StackProps{}, err
	}
	return name, props, nil
}

// checkBootstraps fails before synthesis, with the fix in the message, rather
// than letting the asset code fail on the first missing directory.
func checkBootstraps(props StackProps) error {
	names := make([]string, 0, len(props.Routes)+len(props.Jobs))
	for _, r := range props.Routes {
		names = append(names, r.Name)
	}
	for _, j := range props.Jobs {
		names = append(names, j.Name)
	}
	var missing []string
	for _, name := range names {
		p := filepath.Join(props.CodeDir(name), "bootstrap")
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s: run `make build` first", strings.Join(missing, ", "))
	}
	return nil
}

// snsARN matches a standard SNS topic's ARN, in any partition (CloudWatch
// alarms cannot notify a FIFO topic).
var snsARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)

// retentionDays are the retentions CloudWatch Logs accepts, by days.
var retentionDays = map[float64]awslogs.RetentionDays{
	1:    awslogs.RetentionDays_ONE_DAY,
	3:    awslogs.RetentionDays_THREE_DAYS,
	5:    awslogs.RetentionDays_FIVE_DAYS,
	7:    awslogs.RetentionDays_ONE_WEEK,
	14:   awslogs.RetentionDays_TWO_WEEKS,
	30:   awslogs.RetentionDays_ONE_MONTH,
	60:   awslogs.RetentionDays_TWO_MONTHS,
	90:   awslogs.RetentionDays_THREE_MONTHS,
	120:  awslogs.RetentionDays_FOUR_MONTHS,
	150:  awslogs.RetentionDays_FIVE_MONTHS,
	180:  awslogs.RetentionDays_SIX_MONTHS,
	365:  awslogs.RetentionDays_ONE_YEAR,
	400:  awslogs.RetentionDays_THIRTEEN_MONTHS,
	545:  awslogs.RetentionDays_EIGHTEEN_MONTHS,
	731:  awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS,
	1827: awslogs.RetentionDays_FIVE_YEARS,
	2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS,
	2922: awslogs.RetentionDays_EIGHT_YEARS,
	3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

// getenv returns the variable's value, or nil when it is unset or empty.
func getenv(key string) *string {
	if v := os.Getenv(key); v != "" {
		return &v
	}
	return nil
}
