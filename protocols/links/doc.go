// Package links is perfect point-to-point links as a component (Cachin, Guerraoui and
// Rodrigues, "Introduction to Reliable and Secure Distributed Programming", section 2.4): a
// transport that turns the simulator's lossy, duplicating network into one that neither
// loses, duplicates nor invents messages between nodes that stay up.
//
// Interface (node.LinkSend and node.LinkDeliver; a part runs over it with Part.Over):
//
//	request     LinkSend{To, Msg}     send Msg to the user's peer at node To
//	indication  LinkDeliver{From, Msg} Msg arrives from the user's peer at node From
//
// Properties, for a sender and a receiver that stay up:
//
//	PL1 reliable delivery  every message sent is eventually delivered
//	PL2 no duplication     no message is delivered more than once
//	PL3 no creation        a message delivered from p was sent by p
//
// The algorithm is retransmission with acknowledgements. Every message gets a sequence number
// per destination and is kept until its receiver acknowledges it; a timer sends what is still
// unacknowledged again. The receiver delivers a sequence number once, and acknowledges every
// copy it gets: cumulatively (everything up to a number, and the few above it that came out of
// order), on the next DATA it sends the same peer, or on its own a few milliseconds later if
// none goes, so that a request answered at once costs no acknowledgement of its own.
//
// Crashes and restarts: a node numbers its incarnations (its epoch, kept in durable storage)
// and stamps its messages with it. What a node had not yet had acknowledged when it crashed is
// lost with its memory: the guarantees are between incarnations that stay up, which is what
// the layers above assume of a crash-recovery network anyway (they keep what they must in
// durable storage). A receiver remembers, per sender, only the sender's latest incarnation, and
// a receiver that restarts forgets what it delivered: "no duplication" holds per incarnation
// of the receiver, whose own memory of the messages went with the crash too.
//
// Memory: a receiver keeps, per sender, the highest sequence number below which it delivered
// everything, and the few numbers above it that arrived out of order; a sender keeps what is
// unacknowledged, at most MaxUnacked messages per peer. A peer that acknowledges nothing while
// that many pile up is down or cut off, and the oldest is given up (PL1 holds for messages
// sent while fewer are outstanding); each DATA tells its receiver the oldest message its sender
// still holds, so that the receiver stops waiting for the ones given up. Retransmission sends
// at most Window unacknowledged messages per peer at a time, oldest first.
//
// Checked, from the nodes' states: no-duplication (each incarnation delivered as many messages
// of a sender as it holds distinct numbers of) and no-creation (no number delivered beyond
// what the sender, in that incarnation, numbered),
// delivery (after healing, no node that is up still holds a message for a peer that is up:
// everything was acknowledged), and, as coverage, that a retransmitted message was delivered.
//
// Seeded bug: no-dedup (the receiver delivers every copy it gets, so a duplicate on the
// network, or a retransmission after a lost acknowledgement, is delivered twice).
package links
