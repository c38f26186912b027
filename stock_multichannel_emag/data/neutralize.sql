-- the production eMAG account's credentials and callback tokens never leave production
UPDATE multichannel_channel
   SET emag_username = NULL,
       emag_password = NULL,
       emag_callback_token = NULL;
