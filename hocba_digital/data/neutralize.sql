-- hocba_digital: a copied database must not send transcripts to the Department's store
UPDATE res_company
   SET hocba_exchange_url = NULL,
       hocba_exchange_token = NULL,
       hocba_exchange_client_cert_pem = NULL,
       hocba_exchange_client_key_pem = NULL;
-- nor ask the population database with the school's credentials
UPDATE res_company
   SET hocba_population_url = NULL,
       hocba_population_token = NULL;
-- nor sign remotely with the school's accounts at the CSC signing service
UPDATE hocba_certificate
   SET csc_url = NULL,
       csc_credential = NULL,
       csc_username = NULL,
       csc_password = NULL;
-- nor ask the school's time-stamping service (its account may be billed per stamp)
UPDATE res_company
   SET hocba_tsa_url = NULL;
UPDATE ir_cron
   SET active = false
 WHERE id IN (SELECT res_id FROM ir_model_data
               WHERE module = 'hocba_digital' AND model = 'ir.cron'
                 AND name = 'ir_cron_hocba_exchange_send');
