// Command create-invitation is the Lambda function of the create-invitation route (see pkg/routes).
// It sends mail, so it alone (with the others that do) carries the SES client.
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/email"
)

func main() { apigw.Start(app.MustHandler("create-invitation", app.WithSender(email.FromConfig))) }
