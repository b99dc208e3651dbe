package kafka

import (
	"crypto/sha256"
	"crypto/sha512"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"
)

var (
	scramSHA256 scram.HashGeneratorFcn = sha256.New
	scramSHA512 scram.HashGeneratorFcn = sha512.New
)

// scramClient adapts xdg-go/scram to sarama's SCRAMClient: sarama speaks the SASL exchange,
// scram computes the messages.
type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

func newSCRAMClient(hash scram.HashGeneratorFcn) func() sarama.SCRAMClient {
	return func() sarama.SCRAMClient { return &scramClient{hash: hash} }
}

// Begin starts a conversation for one connection.
func (c *scramClient) Begin(user, password, authzID string) error {
	client, err := c.hash.NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	c.conv = client.NewConversation()
	return nil
}

// Step answers the server's challenge.
func (c *scramClient) Step(challenge string) (string, error) { return c.conv.Step(challenge) }

// Done reports whether the exchange is complete.
func (c *scramClient) Done() bool { return c.conv.Done() }
