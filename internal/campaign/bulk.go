package campaign

// A bulk approval: the back office approves or rejects thousands of
// proposals at once. The page starts a workflow and shows its progress;
// the workflow sends the updates in batches, a few at a time, each batch
// an activity that retries on its own.
const (
	BulkWorkflowName     = "BulkApproval"
	ActivityApproveBatch = "ApproveBatch"
	// QueryBulkProgress reads a bulk approval's progress.
	QueryBulkProgress = "progress"
	// BulkBatchSize matches go in one activity; BulkParallel activities
	// run at once.
	BulkBatchSize = 25
	BulkParallel  = 4
	// BulkMaxFailures is how many failures the progress names.
	BulkMaxFailures = 100
)

// BulkWorkflowID names a campaign's bulk approval.
func BulkWorkflowID(campaign, job string) string { return "bulk-" + campaign + "-" + job }

// BulkActor is who asked, as the service checks it again in each batch:
// no name, no email in the workflow's history.
type BulkActor struct {
	Issuer    string
	Subject   string
	Role      string
	Campaigns []string
	// Asserted: the role came with the request's token, not from the
	// agents' rights, and is what the batches act with.
	Asserted bool `json:",omitempty"`
}

// Bulk is a bulk approval's input.
type Bulk struct {
	Campaign string
	Actor    BulkActor
	Outcome  string // approved | rejected
	IDs      []string
}

// BulkBatch is one activity's share of a bulk approval.
type BulkBatch struct {
	Campaign string
	Actor    BulkActor
	Outcome  string
	IDs      []string
}

// BulkItem is one match's outcome.
type BulkItem struct {
	ID     string
	Status string
	Error  string `json:",omitempty"`
}

// BulkProgress is what the progress page shows.
type BulkProgress struct {
	Outcome   string
	Total     int
	Done      int
	Succeeded int
	Failed    int
	// Failures are the first failures, with why.
	Failures []BulkItem `json:",omitempty"`
	Finished bool
}
