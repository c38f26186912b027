-- a copy of the database (staging, a laptop) must not push stock, import or cancel
-- orders on the real channels: every channel stops until someone switches it on again
UPDATE multichannel_channel
   SET active = false;
-- the channel accounts' rate windows are named by a fingerprint of their login
DELETE FROM multichannel_rate_window;
