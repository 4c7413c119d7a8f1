// Package localstack starts and stops the local stack's processes from Go:
// DynamoDB Local (java) and the SES v2 emulator (node), both installed under
// .tools/node_modules by `make tools`.
//
// `make test` (through scripts/withstack), `make run` and `make bench` use it
// so that the stack is started the same way everywhere: on ports that are
// checked to be free, each process in its own process group so that Stop
// leaves nothing behind, and reported ready only once it answers requests.
//
// It imports only the standard library and pkg/config (for the names of the
// environment variables it hands to the processes that talk to the stack).
package localstack
