// Package deploy holds redirlab's deployment files (kubernetes/) and the
// test that checks them against the Kubernetes API types and against
// redirlab's own flags. It is a module of its own so that the main module
// never depends on the Kubernetes libraries.
package deploy
