// Command lookup-password-reset is the Lambda function of the lookup-password-reset route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("lookup-password-reset")) }
