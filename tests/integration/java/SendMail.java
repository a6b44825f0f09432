// SendMail.java - a JavaMail (javax.mail) client configured the way LabKey
// and XNAT configure theirs, for test_submission.py.
//
//   java SendMail starttls|smtps HOST PORT USER PASSWORD FROM TO
//
// starttls: mail.smtp.starttls.enable + .required, mail.smtp.auth, the
// test's self-signed certificate trusted through mail.smtp.ssl.trust.
// smtps: implicit TLS with mail.smtp.ssl.enable. Exits 0 when the message
// was accepted; prints the server's last reply.
import java.util.Date;
import java.util.Properties;

import javax.mail.Authenticator;
import javax.mail.Message;
import javax.mail.PasswordAuthentication;
import javax.mail.Session;
import javax.mail.Transport;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeMessage;

import com.sun.mail.smtp.SMTPTransport;

public class SendMail {
	public static void main(String[] args) throws Exception {
		String mode = args[0], host = args[1], port = args[2];
		final String user = args[3], password = args[4];
		Properties p = new Properties();
		p.put("mail.smtp.host", host);
		p.put("mail.smtp.port", port);
		p.put("mail.smtp.auth", "true");
		p.put("mail.smtp.connectiontimeout", "10000");
		p.put("mail.smtp.timeout", "10000");
		p.put("mail.smtp.localhost", "javamail.example");
		p.put("mail.smtp.ssl.trust", host);
		if (mode.equals("starttls")) {
			p.put("mail.smtp.starttls.enable", "true");
			p.put("mail.smtp.starttls.required", "true");
		} else {
			p.put("mail.smtp.ssl.enable", "true");
		}
		Session session = Session.getInstance(p, new Authenticator() {
			@Override
			protected PasswordAuthentication getPasswordAuthentication() {
				return new PasswordAuthentication(user, password);
			}
		});
		MimeMessage msg = new MimeMessage(session);
		msg.setFrom(new InternetAddress(args[5]));
		msg.setRecipients(Message.RecipientType.TO, InternetAddress.parse(args[6]));
		msg.setSubject("JavaMail " + mode);
		msg.setSentDate(new Date());
		msg.setText("Sent by JavaMail over " + mode + ".\n");
		Transport t = session.getTransport("smtp");
		try {
			t.connect();
			t.sendMessage(msg, msg.getAllRecipients());
			System.out.println("last reply: " + ((SMTPTransport) t).getLastServerResponse());
		} finally {
			t.close();
		}
	}
}
