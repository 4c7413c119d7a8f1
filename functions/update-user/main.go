// Command update-user is the Lambda function of the update-user route (see pkg/routes).
// It sends mail (the old address is told of a new one), so it carries the
// SES client.
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/email"
)

func main() { apigw.Start(app.MustHandler("update-user", app.WithSender(email.FromConfig))) }
