package main

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/schema"
)

// ItemKind is the items of one kind (the prefixes of their keys) in the
// table at the end of a run.
type ItemKind struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
	// Bytes is their mean size as DynamoDB counts it (names and values).
	Bytes float64 `json:"bytes"`
	// Indexes is how many indexes the mean item is in: each holds a copy
	// (every index projects all attributes).
	Indexes float64 `json:"indexes"`
}

// scanSegments is how many parts of the table itemSizes scans at once:
// decoding the pages is most of a scan's time, and it takes both cores.
const scanSegments = 4

// itemSizes scans the bench's table (a scan is the bench's, never a
// route's) and sizes its items by kind.
func (b *bench) itemSizes(ctx context.Context) ([]ItemKind, error) {
	pages := make(chan []map[string]types.AttributeValue)
	errs := make(chan error, scanSegments)
	var wg sync.WaitGroup
	for seg := range scanSegments {
		wg.Go(func() {
			p := dynamodb.NewScanPaginator(b.client, &dynamodb.ScanInput{TableName: aws.String(b.table),
				Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(scanSegments)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					errs <- err
					return
				}
				pages <- out.Items
			}
		})
	}
	go func() { wg.Wait(); close(pages); close(errs) }()
	by := map[string]*ItemKind{}
	for items := range pages {
		for _, item := range items {
			kind := keyKind(item)
			k := by[kind]
			if k == nil {
				k = &ItemKind{Kind: kind}
				by[kind] = k
			}
			indexes := 0
			for _, ix := range schema.Indexes {
				if _, ok := item[ix.PK]; ok {
					indexes++
				}
			}
			k.Count++
			k.Bytes += float64(itemSize(item))
			k.Indexes += float64(indexes)
		}
	}
	if err := <-errs; err != nil {
		return nil, err
	}
	var kinds []ItemKind
	for _, k := range by {
		k.Bytes /= float64(k.Count)
		k.Indexes /= float64(k.Count)
		kinds = append(kinds, *k)
	}
	slices.SortFunc(kinds, func(x, y ItemKind) int { return strings.Compare(x.Kind, y.Kind) })
	return kinds, nil
}

// keyKind names an item by the prefixes of its keys: "USER/PROFILE",
// "USER/SESSION"; a sort key that has no word for a prefix (a search
// entry's is a time) is "*": "SEARCH/*".
func keyKind(item map[string]types.AttributeValue) string {
	prefix := func(attr string) string {
		s, _ := item[attr].(*types.AttributeValueMemberS)
		if s == nil {
			return "?"
		}
		p, _, _ := strings.Cut(s.Value, "#")
		if p == "" || strings.ContainsFunc(p, func(r rune) bool { return r < 'A' || r > 'Z' }) {
			return "*"
		}
		return p
	}
	return prefix("pk") + "/" + prefix("sk")
}

// itemSize is an item's size as DynamoDB bills it: the UTF-8 bytes of
// every attribute name and value (numbers about one byte per two digits).
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		digits := len(strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(x.Value), "0"))
		return (digits+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range x.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range x.Value {
			n += valueSize(&types.AttributeValueMemberN{Value: s})
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, s := range x.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for name, e := range x.Value {
			n += len(name) + valueSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += valueSize(e) + 1
		}
		return n
	}
	return 0
}

// jobUnits is the capacity units a job's run consumed over all its calls.
func jobUnits(l []call) (rcu, wcu float64) {
	for _, k := range l {
		rcu, wcu = rcu+k.rcu, wcu+k.wcu
	}
	return rcu, wcu
}
