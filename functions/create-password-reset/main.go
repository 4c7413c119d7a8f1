// Command create-password-reset is the Lambda function of the create-password-reset route (see pkg/routes).
// It sends mail, so it carries the SES client.
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/email"
)

func main() { apigw.Start(app.MustHandler("create-password-reset", app.WithSender(email.FromConfig))) }
