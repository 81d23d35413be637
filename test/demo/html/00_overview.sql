-- Report header: what the data is (one JSON section per output row)
SELECT json_build_object(
	'kind', 'header',
	'title', 'Customer success report',
	'subtitle', format('Demo SaaS company: %s accounts, %s paying at the end of October 2026; data up to %s',
	                   to_char(count(*), 'FM9,999,999'),
	                   to_char(count(*) FILTER (WHERE churned_on IS NULL), 'FM9,999,999'),
	                   '2026-10-31'),
	'generated_by', (SELECT 'customer_success ' || extversion FROM pg_extension WHERE extname = 'customer_success'))
FROM accounts;
