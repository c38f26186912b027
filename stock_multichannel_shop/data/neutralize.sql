-- the production shop's REST keys and webhook secret never leave production
UPDATE multichannel_channel
   SET woo_key = NULL,
       woo_secret = NULL,
       woo_webhook_secret = NULL;
