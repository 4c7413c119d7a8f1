// Command reset-password is the Lambda function of the reset-password route (see pkg/routes).
// It sends no mail itself: the notice of the change is queued, and the
// send-mail job sends it.
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("reset-password")) }
