// Command list-api-keys is the Lambda function of the list-api-keys route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("list-api-keys")) }
