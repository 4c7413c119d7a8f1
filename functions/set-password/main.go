// Command set-password is the Lambda function of the set-password route (see pkg/routes).
// It sends mail, so it carries the SES client.
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/email"
)

func main() { apigw.Start(app.MustHandler("set-password", app.WithSender(email.FromConfig))) }
