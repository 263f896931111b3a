package cost

// List prices the model uses: one region, on one date, in US dollars. Change them
// here (and PricesDate) when AWS's or the vendors' pages change; make cost renders
// docs/cost.md again.
const (
	Region     = "us-east-1"
	PricesDate = "2026-12-03"

	// Lambda, arm64 (the template's architecture), first pricing tier.
	LambdaPerGBSecond = 0.0000133334
	LambdaPerRequest  = 0.20 / 1e6
	// Lambda's CPU is proportional to memory: 1,769 MB is one vCPU.
	LambdaMBPerVCPU = 1769

	// API Gateway HTTP API, first 300 million requests a month (each request counted
	// per 512 KB).
	HTTPAPIPerRequest = 1.00 / 1e6

	// DynamoDB on demand (standard table class).
	DynamoDBPerWRU = 0.625 / 1e6
	DynamoDBPerRRU = 0.125 / 1e6

	// CloudWatch Logs ingestion (standard log class).
	LogsPerGB = 0.50
	// X-Ray traces recorded (Tracing: Active), after the first 100,000 a month.
	XRayPerTrace = 5.00 / 1e6

	// Secrets Manager: per secret per month (signing keys, cookie key, DPoP nonce key).
	SecretPerMonth = 0.40
	// CloudWatch alarms, standard resolution, per metric per month.
	AlarmMetricPerMonth = 0.10

	// CloudFront (CloudFront=true): HTTPS requests and data out, North America and
	// Europe (PriceClass_100), first tiers; origin fetches from AWS are free.
	CloudFrontPerRequest = 0.0100 / 10000
	CloudFrontPerGBOut   = 0.085
	// AWS WAF: per web ACL and per rule a month, per request inspected.
	WAFWebACLPerMonth = 5.00
	WAFRulePerMonth   = 1.00
	WAFPerRequest     = 0.60 / 1e6

	// Amazon Cognito user pools, Essentials tier: per monthly active user beyond the
	// free 10,000.
	CognitoEssentialsPerMAU = 0.015
	CognitoFreeMAU          = 10000
	// Auth0 B2C Essentials, the published self-service plan: $35 a month for 500
	// MAU; larger volumes are quoted, so the model applies that rate per MAU.
	Auth0EssentialsPerMonth = 35.0
	Auth0EssentialsMAU      = 500
)
