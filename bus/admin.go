package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// TopicInfo is what the brokers say about a topic: how it is split and the
// settings it carries, for operators and for tests that check provisioning.
type TopicInfo struct {
	Name       string
	Partitions int
	// Replicas is the replica count of partition 0.
	Replicas int
	// Configs holds the topic's effective settings (retention.ms, ...).
	Configs map[string]string
}

// DescribeTopic asks the brokers about one topic.
func DescribeTopic(ctx context.Context, cfg Config, topic string) (TopicInfo, error) {
	if err := cfg.Validate(); err != nil {
		return TopicInfo{}, err
	}
	client, done := newClient(cfg, 10*time.Second)
	defer done()
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return TopicInfo{}, fmt.Errorf("bus: describe %s: metadata: %w", topic, err)
	}
	info := TopicInfo{Name: topic, Configs: map[string]string{}}
	found := false
	for _, t := range meta.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return TopicInfo{}, fmt.Errorf("bus: describe %s: %w", topic, t.Error)
		}
		found = true
		info.Partitions = len(t.Partitions)
		for _, p := range t.Partitions {
			if p.ID == 0 {
				info.Replicas = len(p.Replicas)
			}
		}
	}
	if !found {
		return TopicInfo{}, fmt.Errorf("bus: describe %s: no such topic", topic)
	}
	res, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: topic,
	}}})
	if err != nil {
		return TopicInfo{}, fmt.Errorf("bus: describe %s: configs: %w", topic, err)
	}
	for _, r := range res.Resources {
		if r.Error != nil {
			return TopicInfo{}, fmt.Errorf("bus: describe %s: configs: %w", topic, r.Error)
		}
		for _, e := range r.ConfigEntries {
			info.Configs[e.ConfigName] = e.ConfigValue
		}
	}
	return info, nil
}
