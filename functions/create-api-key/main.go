// Command create-api-key is the Lambda function of the create-api-key route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("create-api-key")) }
