"""Each kind's refusal apart: a listing in error keeps its refusal under the kind refused
(both, for an error of before the kinds were told apart) where that kind is still synced,
pending so that the next push sends it again; a listing left with no refusal that counts
is no longer in error."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        WITH refused AS (
            SELECT id,
                   COALESCE(NULLIF(last_error, ''), 'Refused by the channel.') AS message,
                   stock_sync AND error_kind IS DISTINCT FROM 'price' AS stock,
                   price_sync AND error_kind IS DISTINCT FROM 'stock' AS price
              FROM multichannel_product_binding
             WHERE state = 'error'
        )
        UPDATE multichannel_product_binding b
           SET stock_error = CASE WHEN r.stock THEN r.message END,
               price_error = CASE WHEN r.price THEN r.message END,
               stock_pending = b.stock_pending OR r.stock,
               price_pending = b.price_pending OR r.price,
               error_kind = CASE WHEN r.stock AND r.price THEN 'both' WHEN r.stock THEN 'stock'
                                 WHEN r.price THEN 'price' END,
               last_error = CASE WHEN r.stock OR r.price THEN r.message END,
               state = CASE WHEN r.stock OR r.price THEN 'error'
                            WHEN b.stock_pending OR b.price_pending THEN 'pending' ELSE 'synced' END
          FROM refused r
         WHERE b.id = r.id
        """
    )
    # the audit made some pending while their refusal's kind stayed: no refusal counts there
    cr.execute(
        "UPDATE multichannel_product_binding SET error_kind = NULL WHERE state != 'error' AND error_kind IS NOT NULL"
    )
