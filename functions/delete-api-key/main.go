// Command delete-api-key is the Lambda function of the delete-api-key route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("delete-api-key")) }
