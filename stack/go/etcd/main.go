// Command etcd is upstream etcd's server entry point, built from its published module because
// go.etcd.io/etcd/server/v3 carries replace directives and cannot be go-installed.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
