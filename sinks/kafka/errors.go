package kafka

import (
	"errors"

	"github.com/IBM/sarama"
)

// permanentKErrors are broker answers that sending the same record again cannot change, with
// the fix to name.
var permanentKErrors = []struct {
	err sarama.KError
	fix string
}{
	{sarama.ErrMessageSizeTooLarge, "the record is larger than the topic's max.message.bytes; raise it, or filter such events out"},
	{sarama.ErrMessageSetSizeTooLarge, "the record is larger than the topic's max.message.bytes; raise it, or filter such events out"},
	{sarama.ErrInvalidTopic, "eventstopic is not a valid topic name; fix eventstopic"},
	{sarama.ErrInvalidRecord, "the broker rejected the record as invalid"},
	{sarama.ErrUnsupportedCompressionType, "the brokers do not support this codec; choose another compression"},
	{sarama.ErrUnsupportedForMessageFormat, "the topic's message format is too old for this request; lower version= or upgrade the topic"},
	{sarama.ErrInvalidRequiredAcks, "the brokers reject this acks value; set acks=all or acks=1"},
	{sarama.ErrPolicyViolation, "a broker policy rejected the write"},
	{sarama.ErrUnsupportedVersion, "the brokers do not speak this protocol version; set version= to the brokers' version"},
}

// credentialKErrors are broker answers that refuse herald's credential or authorisation: the
// sink is down (its events kept) until someone fixes the user, the password or the ACLs.
var credentialKErrors = []struct {
	err sarama.KError
	fix string
}{
	{sarama.ErrSASLAuthenticationFailed, "SASL authentication failed; check user, password and mechanism"},
	{sarama.ErrUnsupportedSASLMechanism, "the brokers do not offer this SASL mechanism; set mechanism= to one they enable"},
	{sarama.ErrIllegalSASLState, "SASL exchange failed; check mechanism"},
	{sarama.ErrTopicAuthorizationFailed, "the user may not write to the topic; grant it WRITE on the topic"},
	{sarama.ErrClusterAuthorizationFailed, "the user is not authorized on the cluster; grant it the needed ACLs"},
	{sarama.ErrTransactionalIDAuthorizationFailed, "the user is not authorized for transactions"},
}

// isSizeError reports a broker's "too large" answer. A broker rejects a whole partition batch
// when it is too large, so such an error may belong to a record that is small on its own.
func isSizeError(err error) bool {
	return errors.Is(err, sarama.ErrMessageSizeTooLarge) || errors.Is(err, sarama.ErrMessageSetSizeTooLarge)
}

// classifyCredential reports a refused credential or authorisation, and the fix.
func classifyCredential(err error) (bool, string) {
	for _, c := range credentialKErrors {
		if errors.Is(err, c.err) {
			return true, c.fix
		}
	}
	return false, ""
}

// classify says whether err is worth retrying and, when it is not, what to do about it. A
// refused credential is retried (see classifyCredential).
func classify(err error) (permanent bool, fix string) {
	var cfgErr sarama.ConfigurationError
	if errors.As(err, &cfgErr) {
		// sarama checks Producer.MaxMessageBytes itself (1000000 bytes, the brokers' default limit).
		return true, "the record exceeds the producer's 1000000-byte limit; filter such events out"
	}
	for _, p := range permanentKErrors {
		if errors.Is(err, p.err) {
			return true, p.fix
		}
	}
	return false, ""
}
