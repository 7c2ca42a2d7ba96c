// Package scenarios names what a campaign runs: a protocol, its size, a fault profile, the
// phases of a run and the checks that apply. It holds the catalog of protocols and of named
// scenarios, and resolves a command line's choice of protocol, bug and scenario into a Spec
// that the simulator runs seed after seed.
//
// A scenario scales with the protocol it runs: delays, fault durations and the liveness bound
// are multiples of the protocol's Timing, so that one "crash-restart" scenario serves a
// protocol with 10ms round trips and one with 100ms.
package scenarios
