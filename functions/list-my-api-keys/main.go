// Command list-my-api-keys is the Lambda function of the list-my-api-keys route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("list-my-api-keys")) }
