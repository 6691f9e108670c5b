-- The account's exchange rate (issue 18): BRL per 1 USD and the day it is from, both set or both
-- NULL. The estimate shows the rate card's USD amount in reais with it.
ALTER TABLE accounts ADD COLUMN exchange_rate real;
ALTER TABLE accounts ADD COLUMN exchange_rate_date text;
