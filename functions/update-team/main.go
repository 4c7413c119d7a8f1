// Command update-team is the Lambda function of the update-team route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("update-team")) }
