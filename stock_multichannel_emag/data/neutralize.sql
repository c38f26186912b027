-- the production eMAG account's credentials never leave production
UPDATE multichannel_channel
   SET emag_username = NULL,
       emag_password = NULL;
