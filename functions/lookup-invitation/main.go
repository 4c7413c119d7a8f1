// Command lookup-invitation is the Lambda function of the lookup-invitation route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("lookup-invitation")) }
