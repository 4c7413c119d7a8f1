// Package localstream reads the stream of a table in DynamoDB Local and
// hands its records to the stream jobs, as Lambda's event source mappings
// do in AWS: make run polls it, and tests drain it before they look at
// what a job did (the mail it sent). Each job sees the records its
// routes.Stream matches, in order, in batches; a record a job fails is
// handed to it again, first, at the next poll, as Lambda delivers a batch
// again from its first failed record.
//
// It imports the AWS SDK's DynamoDB and DynamoDB Streams clients,
// aws-lambda-go's events, and pkg/routes.
package localstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/usermgmt/ums/pkg/routes"
)

// Handler is a stream job's Lambda handler.
type Handler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Job is a stream job to hand records to.
type Job struct {
	Name   string
	Stream routes.Stream
	Handle Handler
	// pending are the records matched and not yet done, oldest first.
	pending []events.DynamoDBEventRecord
}

// Reader reads one table's stream. Its methods may be called at once from
// several goroutines: each poll runs alone.
type Reader struct {
	mu      sync.Mutex
	streams *dynamodbstreams.Client
	arn     string
	region  string
	// iterators are the next positions in the shards known: nil once a
	// shard is closed and read to its end.
	iterators map[string]*string
	// rediscover is set when a shard closed: its children are looked for
	// at the next read. DescribeStream is otherwise called only at Open:
	// in DynamoDB Local it costs in proportion to every stream record of
	// every table, which a test run has in the hundreds of thousands.
	rediscover bool
	jobs       []*Job
}

// Open opens the stream of the table at DynamoDB Local's endpoint, reading
// from its oldest record (TRIM_HORIZON): records of changes made before
// Open are handed on too, so nothing queued before a restart of make run
// is lost (a job takes a record twice, as it must on Lambda).
func Open(ctx context.Context, endpoint, region, table string, jobs ...*Job) (*Reader, error) {
	cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	out, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("localstream: describe %s: %w", table, err)
	}
	if out.Table.LatestStreamArn == nil {
		return nil, fmt.Errorf("localstream: table %s has no stream", table)
	}
	r := &Reader{
		streams:   dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(endpoint) }),
		arn:       *out.Table.LatestStreamArn,
		region:    region,
		iterators: map[string]*string{},
		jobs:      jobs,
	}
	if err := r.discover(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Poll reads what the stream holds past what was read, and hands each job
// its records. It returns how many records the jobs took, and an error if
// the stream could not be read or a job failed a record (that record waits
// for the next Poll).
func (r *Reader) Poll(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	recs, err := r.read(ctx)
	if err != nil {
		return 0, err
	}
	for _, rec := range recs {
		for _, j := range r.jobs {
			if j.Stream.Matches(rec.EventName, rec.Change.Keys["pk"].String()) {
				j.pending = append(j.pending, rec)
			}
		}
	}
	done := 0
	var errs []error
	for _, j := range r.jobs {
		n, err := j.deliver(ctx)
		done += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return done, errors.Join(errs...)
}

// Drain polls until everything written so far has been handed on and
// taken: what a test calls before it looks at what a job did. It fails if
// a job fails a record.
func (r *Reader) Drain(ctx context.Context) error {
	_, err := r.Poll(ctx)
	return err
}

// Run polls every interval until ctx ends, logging what fails; a failed
// record is tried again at each poll.
func (r *Reader) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := r.Poll(ctx); err != nil && ctx.Err() == nil {
			log.Warn("local stream", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deliver hands the job its pending records, a batch at a time, until one
// fails or none is left.
func (j *Job) deliver(ctx context.Context) (int, error) {
	done := 0
	for len(j.pending) > 0 {
		batch := j.pending[:min(routes.StreamBatch, len(j.pending))]
		resp, err := j.Handle(ctx, events.DynamoDBEvent{Records: batch})
		if err != nil {
			return done, fmt.Errorf("localstream: %s: %w", j.Name, err)
		}
		if len(resp.BatchItemFailures) == 0 {
			done += len(batch)
			j.pending = j.pending[len(batch):]
			continue
		}
		// As Lambda does: the batch again from its first failed record.
		first := len(batch)
		for _, f := range resp.BatchItemFailures {
			for i, rec := range batch {
				if rec.Change.SequenceNumber == f.ItemIdentifier {
					first = min(first, i)
				}
			}
		}
		done += first
		j.pending = j.pending[first:]
		return done, fmt.Errorf("localstream: %s failed the record %s", j.Name, j.pending[0].Change.SequenceNumber)
	}
	return done, nil
}

// read returns the records of every shard past what was read, shard by
// shard, each in order.
func (r *Reader) read(ctx context.Context) ([]events.DynamoDBEventRecord, error) {
	if r.rediscover {
		if err := r.discover(ctx); err != nil {
			return nil, err
		}
		r.rediscover = false
	}
	var out []events.DynamoDBEventRecord
	for shard, it := range r.iterators {
		for it != nil {
			got, err := r.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
			if err != nil {
				return nil, fmt.Errorf("localstream: get records of %s: %w", shard, err)
			}
			for _, rec := range got.Records {
				out = append(out, record(rec, r.arn, r.region))
			}
			if len(got.Records) == 0 {
				// Read to the end for now; a closed shard (no next
				// iterator) is done for good, and has children.
				r.iterators[shard] = got.NextShardIterator
				r.rediscover = r.rediscover || got.NextShardIterator == nil
				break
			}
			it = got.NextShardIterator
			r.iterators[shard] = it
			r.rediscover = r.rediscover || it == nil
		}
	}
	return out, nil
}

// discover adds the shards not yet known, each from its oldest record.
func (r *Reader) discover(ctx context.Context) error {
	var start *string
	for {
		out, err := r.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(r.arn), ExclusiveStartShardId: start})
		if err != nil {
			return fmt.Errorf("localstream: describe stream: %w", err)
		}
		for _, sh := range out.StreamDescription.Shards {
			if _, known := r.iterators[*sh.ShardId]; known {
				continue
			}
			it, err := r.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: aws.String(r.arn), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
			})
			if err != nil {
				return fmt.Errorf("localstream: iterator of %s: %w", *sh.ShardId, err)
			}
			r.iterators[*sh.ShardId] = it.ShardIterator
		}
		if start = out.StreamDescription.LastEvaluatedShardId; start == nil {
			return nil
		}
	}
}

// record is a stream record as Lambda hands it to a function.
func record(rec types.Record, arn, region string) events.DynamoDBEventRecord {
	sr := rec.Dynamodb
	out := events.DynamoDBEventRecord{
		AWSRegion: region, EventID: aws.ToString(rec.EventID), EventName: string(rec.EventName),
		EventSource: "aws:dynamodb", EventSourceArn: arn, EventVersion: aws.ToString(rec.EventVersion),
	}
	if sr == nil {
		return out
	}
	out.Change = events.DynamoDBStreamRecord{
		Keys: image(sr.Keys), NewImage: image(sr.NewImage), OldImage: image(sr.OldImage),
		SequenceNumber: aws.ToString(sr.SequenceNumber), SizeBytes: aws.ToInt64(sr.SizeBytes),
		StreamViewType: string(sr.StreamViewType),
	}
	if sr.ApproximateCreationDateTime != nil {
		out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *sr.ApproximateCreationDateTime}
	}
	return out
}

func image(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = value(v)
	}
	return out
}

func value(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = value(e)
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(image(v.Value))
	}
	return events.NewNullAttribute()
}
