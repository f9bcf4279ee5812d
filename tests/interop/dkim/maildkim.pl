#!/usr/bin/perl
# Mail::DKIM peer for the DKIM interoperability tests (driven by interop_dkim.py).
#
#   maildkim.pl sign   --key FILE --domain D --selector S --canon H/B [--algorithm A] < msg
#       prints the DKIM-Signature field (CRLF line ends, no trailing CRLF)
#   maildkim.pl verify --dns FILE < msg
#       prints one line per signature: "RESULT d=DOMAIN s=SELECTOR a=ALG detail=TEXT"
#
# Hermetic: key lookups never touch the network. Mail::DKIM::DNS::resolver() is replaced by a
# fake Net::DNS resolver answering from FILE ("owner<TAB>TXT value" lines); names not in FILE
# answer NXDOMAIN.
use strict;
use warnings;
use Getopt::Long;
use Mail::DKIM::Signer;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Net::DNS;

package FakeResolver;

sub new {
    my ( $class, $file ) = @_;
    my %zone;
    open( my $fh, '<', $file ) or die "$file: $!\n";
    while ( my $line = <$fh> ) {
        $line =~ s/\r?\n\z//;
        next if $line =~ /^\s*(#|$)/;
        my ( $name, $value ) = split /\t/, $line, 2;
        push @{ $zone{ lc $name } }, $value;
    }
    close $fh;
    return bless { zone => \%zone, err => 'NOERROR' }, $class;
}

sub send {
    my ( $self, $name, $type ) = @_;
    $name =~ s/\.\z//;
    my $packet = Net::DNS::Packet->new( $name, $type, 'IN' );
    $packet->header->qr(1);
    my $records = $self->{zone}{ lc $name };
    if ( !$records ) {
        $packet->header->rcode('NXDOMAIN');
        return $packet;
    }
    $packet->header->rcode('NOERROR');
    if ( uc $type eq 'TXT' ) {
        for my $value (@$records) {
            # RFC 1035 §3.3: one character-string holds at most 255 octets.
            my @strings = unpack( '(a255)*', $value );
            @strings = ('') if !@strings;
            $packet->push( answer => Net::DNS::RR->new(
                name => $name, type => 'TXT', ttl => 300, txtdata => [@strings] ) );
        }
    }
    return $packet;
}

sub errorstring { return $_[0]->{err} }

package main;

binmode STDIN;
binmode STDOUT;

sub read_message {
    local $/;
    my $msg = <STDIN>;
    $msg = '' if !defined $msg;
    $msg =~ s/(?<!\r)\n/\r\n/g;    # Mail::DKIM wants CRLF line ends
    return $msg;
}

my $mode = shift @ARGV // '';
my ( $key, $domain, $selector, $canon, $algorithm, $dns ) =
  ( '', '', '', 'relaxed/relaxed', 'rsa-sha256', '' );
GetOptions(
    'key=s'       => \$key,
    'domain=s'    => \$domain,
    'selector=s'  => \$selector,
    'canon=s'     => \$canon,
    'algorithm=s' => \$algorithm,
    'dns=s'       => \$dns,
) or exit 2;

if ( $mode eq 'sign' ) {
    my $signer = Mail::DKIM::Signer->new(
        Algorithm => $algorithm,
        Method    => $canon,
        Domain    => $domain,
        Selector  => $selector,
        KeyFile   => $key,
    );
    $signer->PRINT( read_message() );
    $signer->CLOSE;
    my $sig = $signer->signature or die "Mail::DKIM produced no signature\n";
    print $sig->as_string;
    exit 0;
}
if ( $mode eq 'verify' ) {
    die "--dns FILE is required\n" if !$dns;
    Mail::DKIM::DNS::resolver( FakeResolver->new($dns) );
    my $verifier = Mail::DKIM::Verifier->new();
    $verifier->PRINT( read_message() );
    $verifier->CLOSE;
    for my $sig ( $verifier->signatures ) {
        my $detail = $sig->result_detail // '';
        $detail =~ s/[\r\n]+/ /g;
        printf "%s d=%s s=%s a=%s detail=%s\n", $sig->result, $sig->domain // '',
          $sig->selector // '', $sig->algorithm // '', $detail;
    }
    exit 0;
}
die "usage: maildkim.pl sign|verify [options] < message\n";
