// Command accept-invitation-page is the Lambda function of the accept-invitation-page route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("accept-invitation-page")) }
