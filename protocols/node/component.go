package node

import "fmt"

// Components. A protocol may be built from components, the way Cachin, Guerraoui and
// Rodrigues write every abstraction as a module: a component takes requests from the layer
// above, raises indications to it, talks to the same component at other nodes through
// messages, and may use sub-components of its own below it. A stack of them (Compose) is a
// Protocol like any other, and every tool runs it as one.
//
// A component is a Node: the same four inputs, the same Env. What the stack adds:
//
//   - Requests go down. A parent asks a sub-component with Sub[R].Request (or Ask), which
//     hands the child a Request whose Op is the parent's request and whose Client is zero. A
//     child answers a request with env.Reply as it would answer a client; the parent gets
//     the answer as an Answer indication.
//   - Indications come up. A component raises one with Indicate; its parent handles it in
//     Indication (the Parent interface), told which child raised it.
//   - Both are local events: queued, and handled one at a time, in the order raised, after
//     the handler that raised them returns, so a parent never re-enters a child in the
//     middle of the child's handler. The whole cascade belongs to the node's step: the
//     simulator and the explorer see one step, not one per local event (see Compose).
//   - Each component has its own namespaces: its messages travel in an Envelope carrying its
//     path, its timers and storage keys are its own ("[log/paxos]retry"), and its outputs
//     reach the checkers with its path (Output.Path).
//   - A component knows nothing of its parent: only the names and request types of its own
//     sub-components. Where a component sits, what carries its messages and which
//     implementation of a sub-component it gets are the stack's business (Part).
//   - A component's properties (Module) are written as if the component were the whole
//     protocol, and are checked wherever it is used: the stack checks them against a view of
//     the world in which each node's state is the component's and the outputs are its own.

// Parent is implemented by a component that has sub-components: Indication handles what
// they raise, child being the name of the sub-component under this one ("links").
type Parent interface {
	Indication(env Env, child string, ind any)
}

// Indicate raises ind to the parent of the component env belongs to. It is queued, and
// handled after the current handler returns. The root of a stack has no parent: its
// indications go nowhere (Output is what checkers read). Outside a stack Indicate does
// nothing, so a component also runs as a protocol of its own.
func Indicate(env Env, ind any) {
	if e, ok := env.(*compEnv); ok {
		e.indicate(ind)
	}
}

// Ask queues request r for the sub-component called child of the component env belongs to.
// Sub gives the same with the request's type checked by the compiler.
func Ask(env Env, child string, r any) {
	e, ok := env.(*compEnv)
	if !ok {
		panic(fmt.Sprintf("node.Ask(%q): not inside a stack of components (see Compose)", child))
	}
	e.ask(child, r)
}

// Sub names a sub-component that takes requests of type R, under its parent:
//
//	const links node.Sub[node.LinkSend] = "links"
//	links.Request(env, node.LinkSend{To: 2, Msg: m})
type Sub[R any] string

// Request queues r for the sub-component.
func (s Sub[R]) Request(env Env, r R) { Ask(env, string(s), r) }

// Answer is the indication a parent gets when a sub-component replies to one of its
// requests: Op is the request, Result the reply.
type Answer struct {
	Op     any
	Result any
}

// The transport interface. A component that carries its user's messages (perfect links,
// say: Module.Transport) takes LinkSend requests and raises LinkDeliver indications. A part
// that runs over a transport (Part.Over) does not see it: its Send and Broadcast become
// LinkSend requests to the transport, and what the transport delivers arrives at its
// Receive, as if the network had delivered it. Swapping the network for a transport, or one
// transport for another, is one line of the stack's definition.
type (
	// LinkSend asks a transport to send Msg to its user at node To.
	LinkSend struct {
		To  ID
		Msg Message
	}
	// LinkDeliver is a transport delivering Msg from its user at node From.
	LinkDeliver struct {
		From ID
		Msg  Message
	}
)

// Carrier is implemented by a transport's messages that carry one of its user's messages
// (a link's DATA), so that the Byzantine adversary reaches the message inside with the
// user's own mutators. Carry returns a copy of the carrier holding m instead.
type Carrier interface {
	Carried() Message
	Carry(m Message) Message
}

// AtPath is an output of the sub-component at Path, as the stack hands it to the driver; a
// driver records it as an Output with that Path and Value (see SplitOutput).
type AtPath struct {
	Path  string
	Value any
}

func (a AtPath) String() string { return fmt.Sprintf("[%s] %v", a.Path, a.Value) }

// SplitOutput returns the path of the component an output value came from ("" for the
// root, or for a protocol that is not a stack) and the value itself. Drivers call it to fill
// Output.Path.
func SplitOutput(v any) (path string, value any) {
	if a, ok := v.(AtPath); ok {
		return a.Path, a.Value
	}
	return "", v
}

// Envelope carries a sub-component's message on the wire: Path is the component's whole
// path in its stack ("log/paxos", never nested envelopes), Msg its own message. The root's
// messages travel bare.
type Envelope struct {
	Path string
	Msg  Message
}
