// Command cancel-invitation is the Lambda function of the cancel-invitation route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("cancel-invitation")) }
